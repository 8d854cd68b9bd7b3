package probe

import (
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// FuzzDNSAnswer feeds arbitrary datagrams to the answer parser, as a
// broken or hostile resolver could.
func FuzzDNSAnswer(f *testing.F) {
	name := dnsmessage.MustNewName("example.test.")
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: 7, Response: true})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: name, Type: 257, Class: dnsmessage.ClassINET})
	b.StartAnswers()
	b.UnknownResource(dnsmessage.ResourceHeader{Name: name, Type: 257, Class: dnsmessage.ClassINET}, dnsmessage.UnknownResource{Type: 257, Data: []byte("\x00\x05issueca.example")})
	seed, _ := b.Finish()
	f.Add(seed, uint16(257))
	f.Add([]byte{}, uint16(1))
	f.Add([]byte("\x00\x07\x80\x00\x00\x01\x00\x01\x00\x00\x00\x00"), uint16(16))
	f.Fuzz(func(t *testing.T, data []byte, qtype uint16) {
		if m, ok := parseAnswer(data, 7, name, dnsmessage.Type(qtype)); ok {
			for _, v := range answerValues(m, dnsmessage.Type(qtype)) {
				valueMatches(dnsmessage.Type(qtype), "x", v)
			}
		}
		parseCAA(data)
	})
}
