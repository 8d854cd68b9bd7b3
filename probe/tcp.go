package probe

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"unicode"

	"github.com/tocsin-org/tocsin"
)

// maxLine bounds one line of a banner or a reply: a server that never
// sends a line end cannot make the prober buffer without end.
const maxLine = 4096

var errLineTooLong = fmt.Errorf("the server sent a line longer than %d bytes", maxLine)

func (p *Prober) runTCP(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	conn, err := p.dialBound(ctx, c.Spec.Address)
	if err != nil {
		return err
	}
	defer conn.Close()
	if c.Spec.Banner == "" {
		return nil
	}
	line, err := readLine(bufio.NewReaderSize(conn, 512))
	if err != nil {
		if errors.Is(err, io.EOF) && line == "" {
			return inPhase(phaseBanner, errorf("the server closed the connection without sending a banner"))
		}
		if !errors.Is(err, io.EOF) {
			return inPhase(phaseBanner, err)
		}
	}
	if !strings.Contains(line, c.Spec.Banner) {
		return errorf("the banner %q does not contain %q", clip(line, 200), c.Spec.Banner)
	}
	return nil
}

// dialBound connects to addr for the run: its reads and writes end at the
// run's deadline, and the connection closes when the run is cancelled, so
// a server that trickles one byte a second cannot hold the run longer.
func (p *Prober) dialBound(ctx context.Context, addr string) (net.Conn, error) {
	conn, err := p.dial(ctx, "tcp", addr)
	if err != nil {
		return nil, inPhase(phaseConnect, err)
	}
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return &boundConn{Conn: conn, stop: stop}, nil
}

type boundConn struct {
	net.Conn
	stop func() bool
}

func (c *boundConn) Close() error {
	c.stop()
	return c.Conn.Close()
}

// readLine reads one line (without its CR LF) of at most maxLine bytes. A
// line cut by the end of the stream is returned with io.EOF.
func readLine(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		frag, err := br.ReadSlice('\n')
		if b.Len()+len(frag) > maxLine+2 {
			return "", errLineTooLong
		}
		b.Write(frag)
		switch {
		case err == nil:
			return strings.TrimRight(b.String(), "\r\n"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if b.Len() == 0 {
				return "", io.EOF
			}
			return strings.TrimRight(b.String(), "\r\n"), io.EOF
		default:
			return "", err
		}
	}
}

// clip keeps what a server said short (n characters) and printable in a
// result.
func clip(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ' '
		}
		return r
	}, s)
	if r := []rune(s); len(r) > n {
		s = string(r[:n]) + "…"
	}
	return s
}
