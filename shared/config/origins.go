package config

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// Origins are the website origins (SITE_ORIGINS) whose scripts may read the
// API's answers (CORS) and whose pages may frame the hosted form page, as
// API Gateway's CORS configuration takes them: exact origins such as
// https://www.acme.example, or the wildcards *, https://* and http://*.
type Origins []string

// ParseOrigins reads a comma-separated list; empty is none.
func ParseOrigins(s string) (Origins, error) {
	var out Origins
	var errs []error
	for _, o := range strings.Split(s, ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		norm, err := parseOrigin(o)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, norm)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("SITE_ORIGINS=%q: %w", s, err)
	}
	return out, nil
}

func parseOrigin(o string) (string, error) {
	switch o {
	case "*", "https://*", "http://*":
		return o, nil
	}
	u, err := url.Parse(o)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("%q is not an origin such as https://www.acme.example (scheme and host, no path)", o)
	}
	return strings.ToLower(u.Scheme + "://" + u.Host), nil
}

// Allows tells whether origin (a request's Origin header) is listed.
func (list Origins) Allows(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	origin = strings.ToLower(origin)
	for _, o := range list {
		switch {
		case o == "*", o == origin:
			return true
		case strings.HasSuffix(o, "://*") && strings.HasPrefix(origin, strings.TrimSuffix(o, "*")):
			return true
		}
	}
	return false
}
