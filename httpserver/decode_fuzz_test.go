package httpserver

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/tocsin-org/tocsin"
)

// FuzzDecodeJSON feeds arbitrary bodies to the API's JSON decoder with each
// request type: it never panics, refuses with EINVALID only, and whatever
// it accepts is a single valid JSON value (nothing after it) that survives
// encoding and decoding again unchanged.
func FuzzDecodeJSON(f *testing.F) {
	for _, seed := range []string{
		`{"email":"a@example.org","name":"A","roles":["viewer","admin"],"password":"Vq8-pL2m-Xr7t-Zk4w"}`,
		`{"name":"ci","roles":["responder"]}`,
		`{"name":"ci","roles":["responder"]}}`,
		`{"name":"ci"} {}`,
		`{"name":"ci"}]`,
		`{"name":"ci"} `,
		`{"NAME":"ci","Roles":null}`,
		`{"name":"\ud800\u00e9"}`,
		`{"roles":"admin"}`,
		`{"name":7}`,
		`{"x":1}`,
		`[]`,
		`null`,
		``,
		" \t\n",
		"{\"name\":\"\xff\"}",
		`{"name":"ci",`,
		`{"name":"ci","name":"cd"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, newV := range []func() any{
			func() any { return new(createUserRequest) },
			func() any { return new(createTokenRequest) },
		} {
			v := newV()
			if err := decodeJSONBytes(body, v); err != nil {
				if code := tocsin.ErrorCode(err); code != tocsin.EINVALID || tocsin.ErrorMessage(err) == "" {
					t.Fatalf("refused with %q %q, want EINVALID with a message", code, tocsin.ErrorMessage(err))
				}
				continue
			}
			if !json.Valid(body) {
				t.Fatalf("accepted %q, which is not one JSON value", body)
			}
			out, err := json.Marshal(v)
			if err != nil {
				t.Fatalf("accepted %q but cannot encode it: %v", body, err)
			}
			again := newV()
			if err := decodeJSONBytes(out, again); err != nil {
				t.Fatalf("accepted %q, encoded %s, refused that: %v", body, out, err)
			}
			if !reflect.DeepEqual(v, again) {
				t.Fatalf("round trip changed %q: %+v → %s → %+v", body, v, out, again)
			}
		}
	})
}
