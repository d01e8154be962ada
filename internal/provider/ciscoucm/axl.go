package ciscoucm

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/idpctl/idpctl/internal/errs"
	"github.com/idpctl/idpctl/internal/httpx"
	"github.com/idpctl/idpctl/internal/provider"
)

// The AXL SOAP API (AXLAPI.wsdl and AXLSoap.xsd of the AXL schema, as
// published in Cisco DevNet's axl-python-zeep-samples/schema): every
// operation is a POST to /axl/ whose SOAPAction names the schema version
// and the operation ("CUCM:DB ver=14.0 getUser"). A schema stays
// available for two major releases (Cisco's "AXL Versioning" page), so
// 12.5 is understood by Unified CM 12.5, 14 and 15; axl_version chooses
// another.
const (
	axlPath           = "/axl/"
	defaultAXLVersion = "12.5"
	soapEnvelopeNS    = "http://schemas.xmlsoap.org/soap/envelope/"
	// axlItemNotValid is the axlcode of a get for an object that does not
	// exist: "Item not valid: The specified User was not found" (seen in
	// Unified CM 9.1 to 15 answers; AXL's error-code list).
	axlItemNotValid = 5007
)

var axlVersionPattern = regexp.MustCompile(`^[0-9]{1,2}\.[0-9]$`)

func (p *Provider) axlVersion() (string, error) {
	v := p.env.Setting("axl_version", defaultAXLVersion)
	if !axlVersionPattern.MatchString(v) {
		return "", errs.New(errs.KindUsage, "cisco-ucm: axl_version %q is not an AXL schema version such as 12.5 or 14.0", v)
	}
	return v, nil
}

// soapEnvelope wraps one AXL operation element (SOAP 1.1 §4).
type soapEnvelope struct {
	XMLName xml.Name `xml:"soapenv:Envelope"`
	SoapNS  string   `xml:"xmlns:soapenv,attr"`
	AXLNS   string   `xml:"xmlns:ns,attr"`
	Body    struct {
		Operation any
	} `xml:"soapenv:Body"`
}

// getUserRequest is GetUserReq: the operation element is in the AXL
// namespace, its children are not (elementFormDefault is "unqualified"
// in AXLSoap.xsd). returnedTags asks for the user id only.
type getUserRequest struct {
	XMLName      xml.Name `xml:"ns:getUser"`
	UserID       string   `xml:"userid"`
	ReturnedTags struct {
		UserID struct{} `xml:"userid"`
	} `xml:"returnedTags"`
}

// getCCMVersionRequest is GetCCMVersionReq without a processNodeName: the
// version of the node answering.
type getCCMVersionRequest struct {
	XMLName xml.Name `xml:"ns:getCCMVersion"`
}

// axlAnswer reads a getUser answer or a SOAP fault (SOAP 1.1 §4.4, with
// AXL's axlError detail).
type axlAnswer struct {
	Body struct {
		GetUserResponse *struct {
			Return struct {
				User struct {
					UserID string `xml:"userid"`
				} `xml:"user"`
			} `xml:"return"`
		} `xml:"getUserResponse"`
		GetCCMVersionResponse *struct {
			Return struct {
				ComponentVersion struct {
					Version string `xml:"version"`
				} `xml:"componentVersion"`
			} `xml:"return"`
		} `xml:"getCCMVersionResponse"`
		Fault *struct {
			FaultString string `xml:"faultstring"`
			Detail      struct {
				AXLError struct {
					Code    int    `xml:"axlcode"`
					Message string `xml:"axlmessage"`
					Request string `xml:"request"`
				} `xml:"axlError"`
			} `xml:"detail"`
		} `xml:"Fault"`
	} `xml:"Body"`
}

// planUserCheck is the call userExists makes.
func (p *Provider) planUserCheck() (provider.Call, error) {
	v, err := p.axlVersion()
	if err != nil {
		return provider.Call{}, err
	}
	return provider.Call{Method: http.MethodPost, Path: axlPath + " (SOAPAction CUCM:DB ver=" + v + " getUser)",
		Purpose: "only when the revoke answers no tokens: ask AXL whether the end user exists, since the revoke API answers an unknown user and one without tokens alike"}, nil
}

// axlCall sends one AXL operation, named as the SOAPAction names it, as
// a read: every AXL operation used here only reads.
func (p *Provider) axlCall(ctx context.Context, operation string, request any) (*httpx.Response, error) {
	version, err := p.axlVersion()
	if err != nil {
		return nil, err
	}
	env := soapEnvelope{SoapNS: soapEnvelopeNS, AXLNS: "http://www.cisco.com/AXL/API/" + version}
	env.Body.Operation = request
	body, err := xml.Marshal(env)
	if err != nil {
		return nil, err
	}
	header := http.Header{
		"Content-Type": {"text/xml; charset=utf-8"},
		"Accept":       {"text/xml"},
		// SOAP 1.1 §6.1.1: the SOAPAction value is a quoted string.
		"SOAPAction": {`"CUCM:DB ver=` + version + ` ` + operation + `"`},
	}
	return p.Do(ctx, provider.Req{Method: http.MethodPost, Path: axlPath, Header: header,
		Body: append([]byte(xml.Header), body...), Read: true})
}

// userExists asks AXL getUser whether the end user exists, and returns
// the user id as the UCM spells it. The revoke API may answer an end user
// it does not know like one without tokens, and a mistyped user id must
// not read "nothing to revoke".
func (p *Provider) userExists(ctx context.Context, user string) (exists bool, userID string, err error) {
	const op = "cisco-ucm: checking the end user with AXL getUser"
	resp, err := p.axlCall(ctx, "getUser", getUserRequest{UserID: user})
	if err != nil {
		return false, "", fmt.Errorf("%s: %w", op, err)
	}
	verdict, userID, vendor := readGetUser(resp.Status, resp.Body)
	switch {
	case verdict == userFound:
		return true, userID, nil
	case verdict == userUnknown:
		return false, "", nil
	case resp.Status == http.StatusUnauthorized || resp.Status == http.StatusForbidden:
		// Checking needs the "Standard AXL API Access" role (AXL FAQ),
		// which the revoke call itself does not prove.
		return false, "", fmt.Errorf("%s (the AXL user needs the Standard AXL API Access role): %w", op, p.Fail("checking the end user with AXL getUser", resp))
	case vendor != "":
		return false, "", errs.New(errs.KindUnknown, "%s: AXL answered HTTP %d: %s", op, resp.Status, vendor)
	case resp.Status != http.StatusOK:
		return false, "", p.Fail("checking the end user with AXL getUser", resp)
	}
	return false, "", errs.New(errs.KindUnknown, "%s: the answer is neither a getUserResponse nor a SOAP fault", op)
}

// getUserVerdict is what a getUser answer says of the user.
type getUserVerdict int

const (
	userUnclear getUserVerdict = iota
	userFound
	userUnknown
)

// readGetUser reads a getUser answer: found only from a 200 carrying a
// getUserResponse (with the user id as the UCM spells it), unknown only
// from a SOAP fault with axlcode 5007. Anything else is unclear, with the
// fault's own words (cleaned for printing) when there is a fault.
func readGetUser(status int, body []byte) (verdict getUserVerdict, userID, vendor string) {
	var ans axlAnswer
	if err := xml.NewDecoder(bytes.NewReader(body)).Decode(&ans); err != nil {
		return userUnclear, "", ""
	}
	if f := ans.Body.Fault; f != nil {
		if f.Detail.AXLError.Code == axlItemNotValid {
			return userUnknown, "", ""
		}
		text := strings.TrimSpace(f.Detail.AXLError.Message)
		if text == "" {
			text = strings.TrimSpace(f.FaultString)
		}
		if text == "" {
			text = "a SOAP fault without a message"
		}
		if code := f.Detail.AXLError.Code; code != 0 {
			text = fmt.Sprintf("axlcode %d: %s", code, text)
		}
		return userUnclear, "", provider.Clean(text)
	}
	if ans.Body.GetUserResponse != nil && status == http.StatusOK {
		return userFound, strings.TrimSpace(ans.Body.GetUserResponse.Return.User.UserID), ""
	}
	return userUnclear, "", ""
}

// ProbeAccess implements provider.AccessProber for doctor: AXL
// getCCMVersion reads nothing but the version, and answers only an AXL
// user with the Standard AXL API Access role, the role revoking and the
// user check need. The cluster "app" listing makes no call, so it proves
// nothing.
func (p *Provider) ProbeAccess(ctx context.Context) (string, error) {
	const op = "cisco-ucm: AXL getCCMVersion"
	if p.base == "" {
		// A profile for key rotation over SSH only: AXL is not configured.
		return "", provider.Unsupported(Name, "checking AXL access", "set the admin url or the admin setting host to check the AXL user")
	}
	resp, err := p.axlCall(ctx, "getCCMVersion", getCCMVersionRequest{})
	if err != nil {
		return "", fmt.Errorf("%s: %w", op, err)
	}
	var ans axlAnswer
	xmlErr := xml.NewDecoder(bytes.NewReader(resp.Body)).Decode(&ans)
	if resp.Status == http.StatusOK && xmlErr == nil && ans.Body.GetCCMVersionResponse != nil {
		v := provider.Clean(strings.TrimSpace(ans.Body.GetCCMVersionResponse.Return.ComponentVersion.Version))
		if v == "" {
			v = "version not given"
		}
		return "AXL getCCMVersion answered: Unified CM " + v, nil
	}
	if resp.Status == http.StatusOK {
		return "", errs.New(errs.KindUnknown, "%s: the answer is not a getCCMVersionResponse", op)
	}
	return "", p.Fail("AXL getCCMVersion", resp)
}
