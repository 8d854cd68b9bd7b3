package probe

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/tocsin-org/tocsin"
)

// A DNS check asks one resolver for one record set itself, with
// golang.org/x/net/dns/dnsmessage, rather than through net.Resolver: it
// must see the answer's code (NXDOMAIN and SERVFAIL are different
// failures), ask for CAA (which the standard library cannot), and ask the
// resolver the check names. With no resolver, it asks the system's
// (the nameservers of /etc/resolv.conf, in order).

var recordTypes = map[string]dnsmessage.Type{
	"A": dnsmessage.TypeA, "AAAA": dnsmessage.TypeAAAA, "CNAME": dnsmessage.TypeCNAME,
	"MX": dnsmessage.TypeMX, "TXT": dnsmessage.TypeTXT, "NS": dnsmessage.TypeNS, "CAA": 257,
}

// resolvConf is the system's resolver list.
var resolvConf = "/etc/resolv.conf"

func (p *Prober) runDNS(ctx context.Context, c *tocsin.Check, r *tocsin.CheckResult) error {
	s := &c.Spec
	record := cmpOr(strings.ToUpper(s.Record), "A")
	qtype, ok := recordTypes[record]
	if !ok {
		return errorf("record %q: allowed are A, AAAA, CNAME, MX, TXT, NS, CAA", s.Record)
	}
	name, err := dnsmessage.NewName(dnsName(s.Domain))
	if err != nil {
		return errorf("domain %q is not a DNS name: %v", s.Domain, err)
	}
	servers := []string{s.Resolver}
	if s.Resolver == "" {
		if servers, err = systemResolvers(); err != nil {
			return err
		}
	}
	var msg *dnsmessage.Message
	for i, srv := range servers {
		msg, err = p.exchange(ctx, srv, name, qtype)
		if err == nil || ctx.Err() != nil || i == len(servers)-1 {
			break
		}
	}
	if err != nil {
		return err
	}
	who := "the resolver"
	if s.Resolver != "" {
		who = "resolver " + s.Resolver
	}
	switch msg.RCode {
	case dnsmessage.RCodeSuccess:
	case dnsmessage.RCodeNameError:
		return errorf("%s does not exist (NXDOMAIN from %s)", s.Domain, who)
	case dnsmessage.RCodeServerFailure:
		return errorf("%s answered SERVFAIL for %s: its name servers may be unreachable or its DNSSEC broken", who, s.Domain)
	case dnsmessage.RCodeRefused:
		return errorf("%s refused to answer for %s: it may not serve recursion to tocsin", who, s.Domain)
	default:
		return errorf("%s answered %s for %s", who, strings.TrimPrefix(msg.RCode.String(), "RCode"), s.Domain)
	}
	values := answerValues(msg, qtype)
	if len(values) == 0 {
		return errorf("%s has no %s record", s.Domain, record)
	}
	var missing []string
	for _, want := range s.Expect {
		if !slices.ContainsFunc(values, func(v string) bool { return valueMatches(qtype, want, v) }) {
			missing = append(missing, strconv.Quote(want))
		}
	}
	if len(missing) > 0 {
		found := make([]string, 0, len(values))
		for _, v := range values[:min(len(values), 10)] {
			found = append(found, strconv.Quote(clip(v, 100)))
		}
		return errorf("%s %s: %s not found; the answer was %s", record, s.Domain, strings.Join(missing, ", "), strings.Join(found, ", "))
	}
	return nil
}

func dnsName(d string) string {
	if strings.HasSuffix(d, ".") {
		return d
	}
	return d + "."
}

// systemResolvers reads the nameservers of /etc/resolv.conf.
func systemResolvers() ([]string, error) {
	f, err := os.Open(resolvConf)
	if err != nil {
		return nil, errorf("no resolver: cannot read %s (%v); give the check a resolver", resolvConf, errors.Unwrap(err))
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "nameserver" {
			if ip, err := netip.ParseAddr(fields[1]); err == nil {
				out = append(out, net.JoinHostPort(ip.WithZone("").String(), "53"))
			}
		}
	}
	if len(out) == 0 {
		return nil, errorf("no resolver: %s names no nameserver; give the check a resolver", resolvConf)
	}
	return out, nil
}

// exchange asks server for name's records of type qtype over UDP, and
// again over TCP when the answer was truncated.
func (p *Prober) exchange(ctx context.Context, server string, name dnsmessage.Name, qtype dnsmessage.Type) (*dnsmessage.Message, error) {
	id := uint16(rand.Uint32())
	b := dnsmessage.NewBuilder(make([]byte, 2, 512), dnsmessage.Header{ID: id, RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(dnsmessage.Question{Name: name, Type: qtype, Class: dnsmessage.ClassINET}); err != nil {
		return nil, err
	}
	if err := b.StartAdditionals(); err != nil {
		return nil, err
	}
	var opt dnsmessage.ResourceHeader
	if err := opt.SetEDNS0(1232, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	if err := b.OPTResource(opt, dnsmessage.OPTResource{}); err != nil {
		return nil, err
	}
	q, err := b.Finish() // q[:2] is room for TCP's length prefix
	if err != nil {
		return nil, err
	}
	binary.BigEndian.PutUint16(q, uint16(len(q)-2))

	msg, err := p.exchangeUDP(ctx, server, q[2:], id, name, qtype)
	if err != nil || !msg.Truncated {
		return msg, err
	}
	return p.exchangeTCP(ctx, server, q, id, name, qtype)
}

func (p *Prober) exchangeUDP(ctx context.Context, server string, q []byte, id uint16, name dnsmessage.Name, qtype dnsmessage.Type) (*dnsmessage.Message, error) {
	conn, err := p.dial(ctx, "udp", server)
	if err != nil {
		return nil, inPhase(phaseConnect, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	if _, err := conn.Write(q); err != nil {
		return nil, inPhase(phaseAnswer, err)
	}
	buf := make([]byte, 65535)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) && ctx.Err() != nil {
				err = ctx.Err()
			}
			return nil, inPhase(phaseAnswer, err)
		}
		// A datagram that is not the answer (a stray or forged one) is
		// skipped; the deadline still bounds the wait.
		if msg, ok := parseAnswer(buf[:n], id, name, qtype); ok {
			return msg, nil
		}
	}
}

func (p *Prober) exchangeTCP(ctx context.Context, server string, q []byte, id uint16, name dnsmessage.Name, qtype dnsmessage.Type) (*dnsmessage.Message, error) {
	conn, err := p.dialBound(ctx, server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.Write(q); err != nil {
		return nil, inPhase(phaseAnswer, err)
	}
	var l [2]byte
	if _, err := io.ReadFull(conn, l[:]); err != nil {
		return nil, inPhase(phaseAnswer, err)
	}
	buf := make([]byte, binary.BigEndian.Uint16(l[:]))
	if _, err := io.ReadFull(conn, buf); err != nil {
		return nil, inPhase(phaseAnswer, err)
	}
	msg, ok := parseAnswer(buf, id, name, qtype)
	if !ok {
		return nil, errorf("the resolver %s sent an answer that is not a DNS answer to the question (over TCP)", server)
	}
	return msg, nil
}

// parseAnswer parses a DNS answer to the question (id, name, qtype).
func parseAnswer(b []byte, id uint16, name dnsmessage.Name, qtype dnsmessage.Type) (*dnsmessage.Message, bool) {
	var m dnsmessage.Message
	if err := m.Unpack(b); err != nil {
		return nil, false
	}
	if m.ID != id || !m.Response || len(m.Questions) != 1 || m.Questions[0].Type != qtype ||
		!strings.EqualFold(m.Questions[0].Name.String(), name.String()) {
		return nil, false
	}
	return &m, true
}

// answerValues lists the answer's records of type qtype as text: an
// address, a name without its final dot, "10 mx.example.org", the TXT
// strings joined, `0 issue "ca.example"`.
func answerValues(m *dnsmessage.Message, qtype dnsmessage.Type) []string {
	var out []string
	for _, a := range m.Answers {
		if a.Header.Type != qtype {
			continue
		}
		switch b := a.Body.(type) {
		case *dnsmessage.AResource:
			out = append(out, netip.AddrFrom4(b.A).String())
		case *dnsmessage.AAAAResource:
			out = append(out, netip.AddrFrom16(b.AAAA).String())
		case *dnsmessage.CNAMEResource:
			out = append(out, trimDot(b.CNAME.String()))
		case *dnsmessage.MXResource:
			out = append(out, fmt.Sprintf("%d %s", b.Pref, trimDot(b.MX.String())))
		case *dnsmessage.NSResource:
			out = append(out, trimDot(b.NS.String()))
		case *dnsmessage.TXTResource:
			out = append(out, strings.Join(b.TXT, ""))
		case *dnsmessage.UnknownResource:
			if v, ok := parseCAA(b.Data); ok {
				out = append(out, v)
			}
		}
	}
	return out
}

func trimDot(s string) string { return strings.TrimSuffix(s, ".") }

// parseCAA reads a CAA record's data: flags, tag length, tag, value.
func parseCAA(d []byte) (string, bool) {
	if len(d) < 2 || int(d[1]) == 0 || len(d) < 2+int(d[1]) {
		return "", false
	}
	tag := string(d[2 : 2+int(d[1])])
	return fmt.Sprintf("%d %s %q", d[0], tag, string(d[2+int(d[1]):])), true
}

// valueMatches reports whether an answer value v is what want asks for:
// an equal address, a name equal but for case and its final dot, an MX
// host with or without its preference, a TXT record starting with want, a
// CAA record with or without its flags and quotes.
func valueMatches(qtype dnsmessage.Type, want, v string) bool {
	want = strings.TrimSpace(want)
	switch qtype {
	case dnsmessage.TypeA, dnsmessage.TypeAAAA:
		a, err1 := netip.ParseAddr(want)
		b, err2 := netip.ParseAddr(v)
		return err1 == nil && err2 == nil && a == b
	case dnsmessage.TypeCNAME, dnsmessage.TypeNS:
		return strings.EqualFold(trimDot(want), v)
	case dnsmessage.TypeMX:
		if strings.EqualFold(trimDot(want), v) {
			return true
		}
		_, host, _ := strings.Cut(v, " ")
		return strings.EqualFold(trimDot(want), host)
	case dnsmessage.TypeTXT:
		return strings.HasPrefix(v, want)
	default: // CAA
		norm := func(s string) string { return strings.ToLower(strings.ReplaceAll(s, `"`, "")) }
		if norm(want) == norm(v) {
			return true
		}
		_, rest, _ := strings.Cut(v, " ")
		return norm(want) == norm(rest)
	}
}
