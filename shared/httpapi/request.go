// Package httpapi is the edge between API Gateway (HTTP API, payload v2) and
// the domain: it decodes requests, calls one domain function, and encodes
// the reply as HTML for browsers or JSON for scripts. Domain errors become
// status codes here and only here; internal error texts never reach clients.
package httpapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// Request and Response are the API Gateway HTTP API (v2) shapes.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

// MaxBody caps a form post: a content-download form is a few hundred bytes,
// and anything much larger is a mistake or an attack.
const MaxBody = 16 << 10

// Decoding errors, each answered with its own 4xx.
var (
	errTooLarge    = errors.New("request body too large")
	errContentType = errors.New("unsupported content type")
	errMalformed   = errors.New("malformed body")
)

// header returns a request header; API Gateway lower-cases names in v2
// events, the local server does too, but be lenient with hand-made events.
func header(req Request, name string) string {
	if v, ok := req.Headers[name]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// wantsHTML tells a browser's form post from a script: browsers send
// Accept: text/html, fetch() and curl send */* or application/json.
func wantsHTML(req Request) bool {
	return strings.Contains(header(req, "accept"), "text/html")
}

// body returns the raw body, decoding API Gateway's base64 (it encodes
// form-urlencoded and multipart bodies).
func body(req Request) ([]byte, error) {
	if len(req.Body) > MaxBody*4/3+4 {
		return nil, errTooLarge
	}
	b := []byte(req.Body)
	if req.IsBase64Encoded {
		var err error
		b, err = base64.StdEncoding.DecodeString(req.Body)
		if err != nil {
			return nil, fmt.Errorf("%w: invalid base64", errMalformed)
		}
	}
	if len(b) > MaxBody {
		return nil, errTooLarge
	}
	return b, nil
}

// formValues decodes a urlencoded, multipart or JSON body into one value per
// field name (the first, when a name repeats).
func formValues(req Request) (map[string]string, error) {
	b, err := body(req)
	if err != nil {
		return nil, err
	}
	ct := header(req, "content-type")
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, fmt.Errorf("%w %q", errContentType, ct)
	}
	switch mediaType {
	case "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(b))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		return first(vals), nil
	case "multipart/form-data":
		return multipartValues(b, params["boundary"])
	case "application/json":
		return jsonValues(b)
	default:
		return nil, fmt.Errorf("%w %q", errContentType, mediaType)
	}
}

func first(vals map[string][]string) map[string]string {
	out := make(map[string]string, len(vals))
	for k, v := range vals {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

func multipartValues(b []byte, boundary string) (map[string]string, error) {
	if boundary == "" {
		return nil, fmt.Errorf("%w: multipart body without boundary", errMalformed)
	}
	r := multipart.NewReader(bytes.NewReader(b), boundary)
	out := map[string]string{}
	for {
		part, err := r.NextPart()
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		name := part.FormName()
		// Files are never part of a lead; skip them without reading far.
		if name == "" || part.FileName() != "" {
			continue
		}
		v, err := io.ReadAll(io.LimitReader(part, MaxBody))
		if err != nil {
			return nil, fmt.Errorf("%w: %v", errMalformed, err)
		}
		if _, seen := out[name]; !seen {
			out[name] = string(v)
		}
	}
}

// jsonValues accepts one object of strings, booleans and numbers, the shape
// a website script posts; nested values are rejected.
func jsonValues(b []byte) (map[string]string, error) {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%w: expected a JSON object of fields", errMalformed)
	}
	out := make(map[string]string, len(raw))
	for k, v := range raw {
		var s string
		if err := json.Unmarshal(v, &s); err == nil {
			out[k] = s
			continue
		}
		var scalar any
		if err := json.Unmarshal(v, &scalar); err != nil {
			return nil, fmt.Errorf("%w: field %q", errMalformed, k)
		}
		switch t := scalar.(type) {
		case bool, float64:
			out[k] = fmt.Sprint(t)
		case nil:
		default:
			return nil, fmt.Errorf("%w: field %q must be a string", errMalformed, k)
		}
	}
	return out, nil
}
