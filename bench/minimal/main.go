// Command minimal is the comparison peer of bench/api.sh and
// bench/public.sh: the smallest net/http server that answers every request
// with the status line, headers and body captured from tocsin (GET
// /api/v1/me, or a public page), so that wrk measures what tocsin adds
// (token lookup, middleware, encoding) over net/http itself.
//
//	minimal -listen 127.0.0.1:0 -headers me.headers -body me.json
//
// It prints "listening on ADDR" on stderr once it accepts connections.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"net"
	"net/http"
	"net/textproto"
	"os"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "`address` to listen on")
	headersFile := flag.String("headers", "", "`file` with the response headers as curl -D saves them")
	bodyFile := flag.String("body", "", "`file` with the response body")
	flag.Parse()
	if err := run(*listen, *headersFile, *bodyFile); err != nil {
		fmt.Fprintln(os.Stderr, "minimal:", err)
		os.Exit(1)
	}
}

func run(listen, headersFile, bodyFile string) error {
	body, err := os.ReadFile(bodyFile)
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(headersFile)
	if err != nil {
		return err
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(raw)))
	if _, err := tp.ReadLine(); err != nil { // status line
		return fmt.Errorf("%s: %w", headersFile, err)
	}
	header, err := tp.ReadMIMEHeader()
	if err != nil && len(header) == 0 {
		return fmt.Errorf("%s: %w", headersFile, err)
	}
	// net/http writes the date itself, as it does for tocsin. A length
	// tocsin sent is sent too (it spares chunked encoding on large bodies);
	// otherwise net/http adds it to small bodies by itself, as for tocsin.
	header.Del("Date")
	if header.Get("Content-Length") != "" {
		header.Set("Content-Length", fmt.Sprint(len(body)))
	}

	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "listening on %s\n", ln.Addr())
	return http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range header {
			h[k] = v
		}
		w.WriteHeader(http.StatusOK)
		w.Write(body)
	}))
}
