package tocsin

import (
	"strings"
	"testing"
)

func TestNormalizeSubscriberEmail(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{" Ada@Example.ORG ", "ada@example.org"},
		{"ada+status@example.org", "ada+status@example.org"},
		{"ada@example", ""},
		{"Ada <ada@example.org>", ""},
		{"ada@example.org, bob@example.org", ""},
		{"ada@example.org\r\nBcc: x@example.org", ""},
		{`"a b"@example.org`, ""},
		{"@example.org", ""},
		{"ada@.example.org", ""},
		{"ada@example.org.", ""},
		{strings.Repeat("a", 250) + "@example.org", ""},
		{"", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := NormalizeSubscriberEmail(tc.in)
			if tc.want == "" {
				if err == nil || ErrorCode(err) != EINVALID {
					t.Errorf("accepted as %q (%v)", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("= %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestSubscribeRequestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		req  SubscribeRequest
		ok   bool
	}{
		{"all", SubscribeRequest{Email: "a@example.org", Lang: "fr", AllServices: true, ServiceIDs: []int64{3}}, true},
		{"some", SubscribeRequest{Email: "a@example.org", Lang: "en", ServiceIDs: []int64{3, 1, 3}}, true},
		{"none", SubscribeRequest{Email: "a@example.org", Lang: "en"}, false},
		{"language", SubscribeRequest{Email: "a@example.org", Lang: "de", AllServices: true}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.req.Validate()
			if (err == nil) != tc.ok {
				t.Fatalf("Validate = %v, want ok=%v", err, tc.ok)
			}
			if tc.ok && tc.req.AllServices && tc.req.ServiceIDs != nil {
				t.Error("all services kept a list")
			}
			if tc.name == "some" && (len(tc.req.ServiceIDs) != 2 || tc.req.ServiceIDs[0] != 1) {
				t.Errorf("services %v, want sorted and unique", tc.req.ServiceIDs)
			}
		})
	}
}

func TestWebhookValidate(t *testing.T) {
	for _, tc := range []struct {
		url string
		ok  bool
	}{
		{"https://hooks.example.org/status", true},
		{"http://127.0.0.1:8080/x?y=1", true},
		{"ftp://example.org", false},
		{"javascript:alert(1)", false},
		{"https://user:pw@example.org/", false},
		{"/relative", false},
		{"https://example.org/#frag", false},
	} {
		t.Run(tc.url, func(t *testing.T) {
			w := &Webhook{URL: tc.url, AllServices: true}
			if err := w.Validate(); (err == nil) != tc.ok {
				t.Errorf("Validate = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestNoticeValidate(t *testing.T) {
	n := &Notice{Key: "incident:1:update:2", Kind: NoticeIncident, Title: "Down", Path: "/incidents/1/"}
	if err := n.Validate(); err != nil || !n.AllServices {
		t.Errorf("a notice naming no service: %v, all=%v; want valid and for everyone", err, n.AllServices)
	}
	for _, bad := range []Notice{
		{Kind: NoticeIncident, Title: "t", Path: "/"},
		{Key: "k", Kind: "party", Title: "t", Path: "/"},
		{Key: "k", Kind: NoticeMaintenance, Path: "/"},
		{Key: "k", Kind: NoticeMaintenance, Title: "t", Path: "http://x/"},
	} {
		if err := bad.Validate(); ErrorCode(err) != EINVALID {
			t.Errorf("%+v: %v, want EINVALID", bad, err)
		}
	}
}
