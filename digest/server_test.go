package digest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"errors"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// fault is one way the test SMTP server misbehaves, for one connection.
type fault int

const (
	refuseAuth      fault = iota + 1 // 535 to AUTH
	rejectRcpt                       // 550 to the recipient rejected@example.org
	closeMidData                     // read part of the message, then close the connection
	silent                           // accept the connection and never say anything
	silentAfterData                  // take the whole message, then never answer the end of DATA
)

func (f fault) String() string {
	return map[fault]string{refuseAuth: "auth refused", rejectRcpt: "recipient rejected", closeMidData: "closed mid-DATA",
		silent: "never answers", silentAfterData: "never answers the end of DATA"}[f]
}

// received is one message the server accepted (or, for silentAfterData,
// took without answering).
type received struct {
	From string
	To   []string
	Data []byte
}

// mailServer is a real SMTP server (emersion/go-smtp) on loopback with
// STARTTLS and PLAIN authentication, which records what it receives and
// misbehaves on demand.
type mailServer struct {
	addr      *net.TCPAddr
	clientTLS *tls.Config // trusts the server's certificate
	done      chan struct{}

	mu       sync.Mutex
	faults   []fault
	messages []received
	held     []net.Conn
	// connFaults are the faults of the connections seen: STARTTLS
	// starts a new session on the same connection.
	connFaults map[*smtp.Conn]fault
}

const testUser, testPassword = "atalaya", "s3cret"

func newMailServer(t *testing.T) *mailServer {
	t.Helper()
	serverTLS, clientTLS := testCertificates(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ms := &mailServer{addr: ln.Addr().(*net.TCPAddr), clientTLS: clientTLS, done: make(chan struct{}), connFaults: map[*smtp.Conn]fault{}}
	srv := smtp.NewServer(smtp.BackendFunc(ms.newSession))
	srv.Domain = "mail.test"
	srv.TLSConfig = serverTLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = discardLogger{}
	go srv.Serve(&faultyListener{Listener: ln, ms: ms})
	t.Cleanup(func() {
		close(ms.done)
		srv.Close()
		ms.mu.Lock()
		defer ms.mu.Unlock()
		for _, c := range ms.held {
			c.Close()
		}
	})
	return ms
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// fail queues faults, one per coming connection.
func (ms *mailServer) fail(fs ...fault) {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	ms.faults = append(ms.faults, fs...)
}

// popFault removes and returns the next fault if want accepts it.
func (ms *mailServer) popFault(want func(fault) bool) fault {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	if len(ms.faults) == 0 || !want(ms.faults[0]) {
		return 0
	}
	f := ms.faults[0]
	ms.faults = ms.faults[1:]
	return f
}

func (ms *mailServer) received() []received {
	ms.mu.Lock()
	defer ms.mu.Unlock()
	return append([]received(nil), ms.messages...)
}

// faultyListener holds connections silently when the next fault is silent.
type faultyListener struct {
	net.Listener
	ms *mailServer
}

func (l *faultyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.ms.popFault(func(f fault) bool { return f == silent }) == 0 {
			return c, nil
		}
		l.ms.mu.Lock()
		l.ms.held = append(l.ms.held, c)
		l.ms.mu.Unlock()
	}
}

func (ms *mailServer) newSession(c *smtp.Conn) (smtp.Session, error) {
	ms.mu.Lock()
	f, seen := ms.connFaults[c]
	ms.mu.Unlock()
	if !seen {
		f = ms.popFault(func(f fault) bool { return f != silent })
		ms.mu.Lock()
		ms.connFaults[c] = f
		ms.mu.Unlock()
	}
	return &session{ms: ms, conn: c, fault: f}, nil
}

// session is one SMTP session of mailServer.
type session struct {
	ms     *mailServer
	conn   *smtp.Conn
	fault  fault
	authed bool
	from   string
	to     []string
}

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if s.fault == refuseAuth || user != testUser || pass != testPassword {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		s.authed = true
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if !s.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.fault == rejectRcpt && to == "rejected@example.org" {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	switch s.fault {
	case closeMidData:
		io.CopyN(io.Discard, r, 200)
		s.conn.Conn().Close()
		return errors.New("connection closed")
	case silentAfterData:
		data, _ := io.ReadAll(r)
		s.record(data)
		<-s.ms.done
		return errors.New("shut down")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.record(data)
	return nil
}

func (s *session) record(data []byte) {
	s.ms.mu.Lock()
	defer s.ms.mu.Unlock()
	s.ms.messages = append(s.ms.messages, received{From: s.from, To: append([]string(nil), s.to...), Data: data})
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

// testCertificates returns a self-signed certificate for 127.0.0.1, as a
// server configuration and a client configuration that trusts it.
func testCertificates(t *testing.T) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

// parsedMail is a received message taken apart.
type parsedMail struct {
	Header  netmail.Header
	Subject string // decoded
	Text    string // the text/plain part, decoded
	HTML    string // the text/html part, decoded
	Raw     []byte
}

// parseMail parses a received message: headers, the multipart/alternative
// body and its two parts, each decoded by its Content-Transfer-Encoding.
func parseMail(t *testing.T, data []byte) parsedMail {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("reading message: %v\n%s", err, data)
	}
	pm := parsedMail{Header: msg.Header, Raw: data}
	if pm.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatalf("decoding subject %q: %v", msg.Header.Get("Subject"), err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		t.Fatalf("Content-Type: got %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading MIME part: %v", err)
		}
		var body io.Reader = p
		switch enc := p.Header.Get("Content-Transfer-Encoding"); strings.ToLower(enc) {
		case "quoted-printable":
			body = quotedprintable.NewReader(p)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, p)
		default:
			t.Errorf("part %s: Content-Transfer-Encoding %q; want quoted-printable or base64", p.Header.Get("Content-Type"), enc)
		}
		text, err := io.ReadAll(body)
		if err != nil {
			t.Fatalf("decoding part: %v", err)
		}
		ct, ctParams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if ctParams["charset"] != "" && !strings.EqualFold(ctParams["charset"], "utf-8") {
			t.Errorf("part %s: charset %q, want UTF-8", ct, ctParams["charset"])
		}
		switch ct {
		case "text/plain":
			pm.Text = strings.ReplaceAll(string(text), "\r\n", "\n")
		case "text/html":
			pm.HTML = strings.ReplaceAll(string(text), "\r\n", "\n")
		default:
			t.Errorf("unexpected part %s", ct)
		}
	}
	if pm.Text == "" || pm.HTML == "" {
		t.Errorf("message lacks a text or an HTML part:\n%s", data)
	}
	return pm
}
