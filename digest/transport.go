package digest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"
)

// Envelope is one rendered message ready for delivery.
type Envelope struct {
	MessageID string // without angle brackets
	Digest    string
	Seq       int
	Msg       *mail.Msg
}

// Reason classifies a delivery failure, for logs, metrics and the store.
type Reason string

// Reasons of delivery failures.
const (
	ReasonConnect   Reason = "connect"   // the server could not be reached, or TLS failed
	ReasonAuth      Reason = "auth"      // the server refused the credentials
	ReasonSender    Reason = "sender"    // MAIL FROM refused
	ReasonRecipient Reason = "recipient" // a recipient refused (RCPT TO)
	ReasonData      Reason = "data"      // the message was refused or the connection failed during DATA
	ReasonTimeout   Reason = "timeout"   // the server did not answer in time
	ReasonWrite     Reason = "write"     // the outbox file could not be written
	ReasonOther     Reason = "other"
)

// Reasons returns every Reason, for pre-initialised metrics.
func Reasons() []Reason {
	return []Reason{ReasonConnect, ReasonAuth, ReasonSender, ReasonRecipient, ReasonData, ReasonTimeout, ReasonWrite, ReasonOther}
}

// DeliveryError is a failed delivery.
type DeliveryError struct {
	Reason Reason
	// Certain reports that the server cannot have accepted the message
	// (the failure came before the end of DATA). When false, the message
	// may have been accepted: its answer never came.
	Certain bool
	// Temporary reports that retrying may succeed.
	Temporary bool
	Err       error
}

// reasonHints say what to check for each reason.
var reasonHints = map[Reason]string{
	ReasonConnect:   "check smtp.host, smtp.port and smtp.tls",
	ReasonAuth:      "check smtp.username and the password in the variable smtp.password_env names",
	ReasonSender:    "check smtp.from: the server refuses it as sender",
	ReasonRecipient: "check the digest's to addresses",
	ReasonTimeout:   "the server did not answer within smtp.timeout",
	ReasonWrite:     "check that the outbox directory is writable and the disk not full",
}

// Error says why the delivery failed and what to check; nothing is lost:
// the next run delivers.
func (e *DeliveryError) Error() string {
	msg := fmt.Sprintf("delivery failed (%s): %v", e.Reason, e.Err)
	if hint := reasonHints[e.Reason]; hint != "" {
		msg += "; " + hint
	}
	return msg + "; the releases stay for the next run"
}

// Unwrap returns the underlying error.
func (e *DeliveryError) Unwrap() error { return e.Err }

// asDeliveryError returns err as a *DeliveryError, wrapping errors of
// other types as uncertain and temporary.
func asDeliveryError(err error) *DeliveryError {
	var de *DeliveryError
	if errors.As(err, &de) {
		return de
	}
	return &DeliveryError{Reason: ReasonOther, Temporary: true, Err: err}
}

// SMTP delivers through an SMTP server with go-mail.
type SMTP struct {
	Host     string
	Port     int
	TLS      string // "none", "starttls" or "tls"
	Username string // empty: no authentication
	Password string
	Timeout  time.Duration // per connection; 0 means 30s
	// TLSConfig overrides the TLS configuration (tests trust their own
	// certificate with it); nil verifies the server against the system roots.
	TLSConfig *tls.Config
}

// Deliver sends env through the server. It returns nil once the server
// answered 250 to the end of DATA.
func (s *SMTP) Deliver(ctx context.Context, env Envelope) error {
	c, err := s.client()
	if err != nil {
		return &DeliveryError{Reason: ReasonOther, Certain: true, Err: err}
	}
	err = c.DialAndSendWithContext(ctx, env.Msg)
	if env.Msg.IsDelivered() {
		// The server answered 250 to DATA; a failure after that (RSET,
		// QUIT) does not matter.
		return nil
	}
	if err == nil {
		return &DeliveryError{Reason: ReasonOther, Err: errors.New("the server did not confirm the message")}
	}
	return classifyError(err)
}

func (s *SMTP) client() (*mail.Client, error) {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	opts := []mail.Option{mail.WithPort(s.Port), mail.WithTimeout(timeout)}
	switch s.TLS {
	case "none":
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case "tls":
		opts = append(opts, mail.WithSSL())
	case "starttls", "":
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	default:
		return nil, fmt.Errorf("unknown TLS mode %q; want none, starttls or tls", s.TLS)
	}
	if s.TLSConfig != nil {
		opts = append(opts, mail.WithTLSConfig(s.TLSConfig))
	}
	if s.Username != "" {
		opts = append(opts, mail.WithSMTPAuth(mail.SMTPAuthAutoDiscover), mail.WithUsername(s.Username), mail.WithPassword(s.Password))
	}
	c, err := mail.NewClient(s.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("SMTP client for %s: %v", s.Host, err)
	}
	return c, nil
}

// classifyError turns a go-mail error into a *DeliveryError.
func classifyError(err error) *DeliveryError {
	de := &DeliveryError{Reason: ReasonOther, Certain: true, Temporary: true, Err: err}
	var se *mail.SendError
	if errors.As(err, &se) {
		de.Temporary = se.IsTemp() || se.ErrorCode() == 0
		switch se.Reason {
		case mail.ErrSMTPMailFrom, mail.ErrGetSender:
			de.Reason = ReasonSender
		case mail.ErrSMTPRcptTo, mail.ErrGetRcpts:
			de.Reason = ReasonRecipient
		case mail.ErrSMTPData, mail.ErrWriteContent:
			de.Reason = ReasonData
		case mail.ErrSMTPDataClose:
			// The end of DATA was sent: without an answer (code 0) the
			// server may have taken the message.
			de.Reason, de.Certain = ReasonData, se.ErrorCode() != 0
		case mail.ErrConnCheck:
			de.Reason = ReasonConnect
		default:
			de.Certain = false
		}
	} else {
		msg := err.Error()
		switch {
		case strings.Contains(msg, "SMTP AUTH"), strings.Contains(msg, "authentication"):
			de.Reason = ReasonAuth
			de.Temporary = strings.Contains(msg, "454")
		case strings.HasPrefix(msg, "dial failed"):
			de.Reason = ReasonConnect
		}
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		de.Reason, de.Temporary = ReasonTimeout, true
	}
	return de
}

// Outbox writes each message as an .eml file into Dir, for when no SMTP
// server is configured: <dir>/<digest>-<seq>.eml.
type Outbox struct {
	Dir string
}

// Deliver writes env to Dir: to a temporary file, synced, then renamed.
// A file already there for the same message (a crash came after the
// rename but before the store recorded it) is left alone: it is this
// message. A file of another message under the same name (the digest store
// was moved aside and numbers start again) is left alone too, and the
// message gets the next free name.
func (o *Outbox) Deliver(ctx context.Context, env Envelope) error {
	if err := ctx.Err(); err != nil {
		return &DeliveryError{Reason: ReasonWrite, Certain: true, Temporary: true, Err: err}
	}
	fail := func(err error) error {
		return &DeliveryError{Reason: ReasonWrite, Certain: true, Temporary: true, Err: err}
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return fail(err)
	}
	final, delivered, err := o.target(env)
	if err != nil {
		return fail(err)
	}
	if delivered {
		return nil
	}
	f, err := os.CreateTemp(o.Dir, ".tmp-*.eml")
	if err != nil {
		return fail(err)
	}
	tmp := f.Name()
	_, err = env.Msg.WriteTo(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		os.Remove(tmp) // our own temporary file
		return fail(err)
	}
	if d, err := os.Open(o.Dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// target returns the file env is written to: digest-SEQ.eml, or
// digest-SEQ-N.eml when that name holds another message; delivered says
// the file is there already and holds env's Message-ID.
func (o *Outbox) target(env Envelope) (path string, delivered bool, err error) {
	for n := 0; n < 1000; n++ {
		name := fmt.Sprintf("%s-%06d.eml", env.Digest, env.Seq)
		if n > 0 {
			name = fmt.Sprintf("%s-%06d-%d.eml", env.Digest, env.Seq, n)
		}
		path = filepath.Join(o.Dir, name)
		same, err := holdsMessage(path, env.MessageID)
		if errors.Is(err, fs.ErrNotExist) {
			return path, false, nil
		}
		if err != nil || same {
			return path, same, err
		}
	}
	return "", false, fmt.Errorf("outbox %s: 1,000 files already hold message %d of digest %s; move them away", o.Dir, env.Seq, env.Digest)
}

// holdsMessage reports whether the message file at path has Message-ID id,
// reading its headers only.
func holdsMessage(path, id string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	head := make([]byte, 64<<10)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return false, err
	}
	head = head[:n]
	if end := bytes.Index(head, []byte("\r\n\r\n")); end >= 0 {
		head = head[:end]
	}
	return bytes.Contains(head, []byte("<"+id+">")), nil
}
