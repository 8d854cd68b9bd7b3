package httpserver

import (
	"fmt"
	"strings"

	"github.com/tocsin-org/tocsin"
	"github.com/tocsin-org/tocsin/i18n"
)

// userLang is the language of messages sent to u.
func (s *Server) userLang(u *tocsin.User) string {
	if u.Lang != "" {
		return u.Lang
	}
	return s.cfg.Lang
}

// signInAlert tells an account's owner about a sign-in from a new address
// or device: stolen credentials succeed at the first try and look normal,
// so the owner is the one who can tell.
func (s *Server) signInAlert(u *tocsin.User, in *tocsin.SignIn, sessionHash string, newIP, newDevice bool) *tocsin.Message {
	lang := s.userLang(u)
	var what []string
	if newIP {
		what = append(what, i18n.T(lang, "mail.signin.new_ip"))
	}
	if newDevice {
		what = append(what, i18n.T(lang, "mail.signin.new_device"))
	}
	body := i18n.T(lang, "mail.signin.body", strings.Join(what, ", "), s.fmtTime(in.At), in.IP, in.UserAgent, s.cfg.PublicURL()+"/console/account")
	return &tocsin.Message{
		Channel: tocsin.ChannelEmail, To: u.Email,
		Subject: i18n.T(lang, "mail.signin.subject"),
		Body:    body,
		Key:     "signin-new:" + sessionHash,
	}
}

// passwordNotice tells an account's owner that its password or second
// factor changed (kind is the i18n prefix: mail.password, mail.password_reset,
// mail.2fa_reset), so that a change they did not make does not go unseen.
func (s *Server) passwordNotice(u *tocsin.User, kind, ip string) *tocsin.Message {
	lang := s.userLang(u)
	now := s.now()
	return &tocsin.Message{
		Channel: tocsin.ChannelEmail, To: u.Email,
		Subject: i18n.T(lang, kind+".subject"),
		Body:    i18n.T(lang, kind+".body", s.fmtTime(now), ip, s.cfg.PublicURL()+"/console/account"),
		Key:     fmt.Sprintf("%s:%d:%d", kind, u.ID, now.UnixNano()),
	}
}

// failureAlert tells an account's owner that someone failed to sign in.
func (s *Server) failureAlert(u *tocsin.User, in *tocsin.SignIn) *tocsin.Message {
	lang := s.userLang(u)
	return &tocsin.Message{
		Channel: tocsin.ChannelEmail, To: u.Email,
		Subject: i18n.T(lang, "mail.failed.subject"),
		Body:    i18n.T(lang, "mail.failed.body", s.fmtTime(in.At), in.IP, in.UserAgent, s.cfg.PublicURL()+"/console/account"),
		Key:     fmt.Sprintf("signin-failed:%d:%d", u.ID, in.At.UnixNano()),
	}
}
