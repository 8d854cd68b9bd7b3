package httpserver

import (
	"net/url"
	"testing"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/config"
)

// FuzzCheckInput feeds the two ways a check is written — an API body and
// a console form — through checkOf: never a panic; a refusal is always
// EINVALID (a 400 naming the field); an accepted check validates again
// and names no metadata or link-local host.
func FuzzCheckInput(f *testing.F) {
	f.Add([]byte(`{"service_id":1,"kind":"http","url":"https://www.example.org/","interval":"30s","expect_status":[200]}`), "service_id=1&kind=tcp&address=mail.example.org%3A25&interval=0")
	f.Add([]byte(`{"service_id":1,"kind":"http","url":"http://169.254.169.254/","max_latency":"soon"}`), "service_id=1&kind=dns&domain=example.org&record=txt&expect=v%3Dspf1")
	f.Add([]byte(`{"service_id":1,"kind":"bucket","endpoint":"https://s3.example.org","bucket":"media","aliases":["http://[fe80::1]/"]}`), "service_id=1&kind=http&url=https%3A%2F%2Fx.example.org%2F&headers=Authorization%3A+Bearer+x%0AX-A%3A+b&expect_status=200%2C+204")
	f.Add([]byte(`{"service_id":1,"kind":"tls","address":"metadata.google.internal:443","timeout":"-5s","fail_threshold":0}`), "service_id=x&fail_threshold=abc")
	s := &Server{cfg: config.Default()}
	check := func(t *testing.T, c *tocsin.Check, err error) {
		if err != nil {
			if code := tocsin.ErrorCode(err); code != tocsin.EINVALID {
				t.Fatalf("refused with %s, want invalid: %v", code, err)
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted check does not validate again: %v", err)
		}
		if err := s.safeTarget(c); err != nil {
			t.Fatalf("accepted check with an unsafe target: %v", err)
		}
	}
	f.Fuzz(func(t *testing.T, body []byte, form string) {
		var q checkRequest
		if err := decodeJSONBytes(body, &q); err == nil {
			c, err := s.checkOf(q)
			check(t, c, err)
		}
		values, err := url.ParseQuery(form)
		if err != nil {
			return
		}
		q, err = requestOf(formOf(values))
		if err != nil {
			check(t, nil, err)
			return
		}
		c, err := s.checkOf(q)
		check(t, c, err)
	})
}
