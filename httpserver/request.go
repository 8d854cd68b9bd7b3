package httpserver

import (
	"context"
	"net/http"

	"github.com/tocsin-org/tocsin"
)

// reqState is what the middleware learns about a request; handlers read it
// with state(r). One pointer in the context, filled as the request goes.
type reqState struct {
	route   *route
	ip      string
	lang    string
	user    *tocsin.User
	session *tocsin.Session
	token   *tocsin.APIToken
	csrf    string  // the browser's CSRF cookie value
	status  int     // written status, for metrics and logs
	upload  *upload // an upload route's multipart form (parseUpload)
}

type stateKey struct{}

func withState(r *http.Request) (*http.Request, *reqState) {
	st := &reqState{}
	return r.WithContext(context.WithValue(r.Context(), stateKey{}, st)), st
}

func state(r *http.Request) *reqState {
	if st, ok := r.Context().Value(stateKey{}).(*reqState); ok {
		return st
	}
	return &reqState{}
}

// actor is who the request acts as, for the audit log.
func (st *reqState) actor() tocsin.Actor {
	a := tocsin.Actor{IP: st.ip, Label: "anonymous"}
	switch {
	case st.user != nil:
		a.UserID, a.Label = st.user.ID, st.user.Email
	case st.token != nil:
		a.TokenID, a.Label = st.token.ID, "token:"+st.token.Name
	}
	return a
}
