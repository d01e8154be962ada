package fakekit

import (
	"reflect"
	"strings"
	"testing"
)

const soapNS = "http://schemas.xmlsoap.org/soap/envelope/"

func TestDecodeXMLNamesQualifiedAndUnqualifiedElementsApart(t *testing.T) {
	got, err := DecodeXML([]byte(`<?xml version="1.0"?>
<soapenv:Envelope xmlns:soapenv="` + soapNS + `" xmlns:ns="http://www.cisco.com/AXL/API/12.5">
 <soapenv:Header/>
 <soapenv:Body>
  <ns:getUser sequence="1"><userid> jdoe </userid><returnedTags><userid/></returnedTags></ns:getUser>
 </soapenv:Body>
</soapenv:Envelope>`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"{" + soapNS + "}Envelope": map[string]any{
		"{" + soapNS + "}Header": "",
		"{" + soapNS + "}Body": map[string]any{
			"{http://www.cisco.com/AXL/API/12.5}getUser": map[string]any{
				"userid": "jdoe", "returnedTags": map[string]any{"userid": ""},
			},
		},
	}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %#v", got)
	}
	// A qualified child is a different name, so a schema naming the
	// unqualified one refuses it.
	q, err := DecodeXML([]byte(`<ns:getUser xmlns:ns="urn:a"><ns:userid>x</ns:userid></ns:getUser>`))
	if err != nil {
		t.Fatal(err)
	}
	schema := &Schema{Type: "object", Properties: map[string]*Schema{"{urn:a}getUser": {Type: "object", Required: []string{"userid"}, Properties: map[string]*Schema{"userid": {Type: "string"}}}}}
	if err := schema.Check(q, "body"); err == nil || !strings.Contains(err.Error(), "userid") {
		t.Fatalf("a qualified child passed the schema: %v", err)
	}
}

func TestDecodeXMLRefusesWhatNoContractTakes(t *testing.T) {
	for name, body := range map[string]string{
		"repeated element": `<a><b>1</b><b>2</b></a>`,
		"not XML":          `{"userid":"x"}`,
		"unclosed":         `<a><b>1</b>`,
		"two roots":        `<a/><b/>`,
		"empty":            ``,
	} {
		if v, err := DecodeXML([]byte(body)); err == nil {
			t.Errorf("%s: decoded as %#v", name, v)
		}
	}
}
