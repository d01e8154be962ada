package fakekit

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// XMLContentType is the media type of a SOAP 1.1 request (SOAP 1.1 §6.1.1).
// A route with it decodes its body with DecodeXML and checks the result
// against its Body schema like JSON.
const XMLContentType = "text/xml"

// DecodeXML turns an XML document into nested objects a Schema can check.
// An element with children is an object of them; a leaf is its text as a
// string (an empty element is ""). Each name is the element's local name,
// prefixed "{namespace}" when the element is in a namespace, so a schema
// also checks what is qualified and what is not: AXL's request elements
// are unqualified (elementFormDefault="unqualified" in AXLSoap.xsd) while
// the operation element is in the AXL namespace, and a client that
// qualifies both is wrong. Attributes are ignored, and a repeated element
// is refused: no contract here takes a list in XML.
func DecodeXML(raw []byte) (any, error) {
	dec := xml.NewDecoder(bytes.NewReader(raw))
	var root map[string]any
	type open struct {
		name     string
		children map[string]any
		text     strings.Builder
		hasChild bool
	}
	var stack []*open
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("the body is not XML: %v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := t.Name.Local
			if t.Name.Space != "" {
				name = "{" + t.Name.Space + "}" + name
			}
			if len(stack) > 0 {
				stack[len(stack)-1].hasChild = true
			} else if root != nil {
				return nil, errors.New("the body has more than one root element")
			}
			stack = append(stack, &open{name: name, children: map[string]any{}})
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			}
		case xml.EndElement:
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			var v any = strings.TrimSpace(top.text.String())
			if top.hasChild {
				v = top.children
			}
			if len(stack) == 0 {
				root = map[string]any{top.name: v}
				continue
			}
			parent := stack[len(stack)-1].children
			if _, dup := parent[top.name]; dup {
				return nil, fmt.Errorf("the element %s is repeated", top.name)
			}
			parent[top.name] = v
		}
	}
	if root == nil {
		return nil, errors.New("the body has no XML element")
	}
	return root, nil
}
