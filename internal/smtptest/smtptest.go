// Package smtptest runs a real SMTP server (github.com/emersion/go-smtp) on
// loopback for tests: STARTTLS with a self-signed certificate, PLAIN
// authentication, a record of every message received, and faults on
// demand (authentication refused, a recipient rejected, the connection
// closed mid-DATA, a server that never answers). It also takes received
// digests apart.
package smtptest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// The credentials the server accepts.
const (
	User     = "atalaya"
	Password = "s3cret"
)

// RejectedRecipient is the address the RejectRecipient fault refuses.
const RejectedRecipient = "rejected@example.org"

// Fault is one way the server misbehaves, for one connection.
type Fault int

// Faults.
const (
	RefuseAuth      Fault = iota + 1 // 535 to AUTH
	RejectRecipient                  // 550 to RejectedRecipient
	CloseMidData                     // read part of the message, then close the connection
	Silent                           // accept the connection and never say anything
	SilentAfterData                  // take the whole message, then never answer the end of DATA
)

// String names the fault, for subtest names.
func (f Fault) String() string {
	return map[Fault]string{RefuseAuth: "auth refused", RejectRecipient: "recipient rejected", CloseMidData: "closed mid-DATA",
		Silent: "never answers", SilentAfterData: "never answers the end of DATA"}[f]
}

// Received is one message the server took: accepted, or, for
// SilentAfterData, read in full without an answer.
type Received struct {
	From string
	To   []string
	Data []byte
}

// Server is a running SMTP server; New stops it when the test ends.
type Server struct {
	Port int
	// ClientTLS trusts the server's certificate; CertPEM is that
	// certificate, for a subprocess (SSL_CERT_FILE).
	ClientTLS *tls.Config
	CertPEM   []byte

	done chan struct{}

	mu         sync.Mutex
	faults     []Fault
	messages   []Received
	held       []net.Conn
	connFaults map[*smtp.Conn]Fault // STARTTLS starts a new session on one connection
	onData     func()
}

// New starts a server on 127.0.0.1.
func New(t testing.TB) *Server {
	t.Helper()
	serverTLS, clientTLS, certPEM, err := certificates()
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Port: ln.Addr().(*net.TCPAddr).Port, ClientTLS: clientTLS, CertPEM: certPEM, done: make(chan struct{}), connFaults: map[*smtp.Conn]Fault{}}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = "mail.test"
	srv.TLSConfig = serverTLS
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.ErrorLog = discardLogger{}
	go srv.Serve(&faultyListener{Listener: ln, s: s})
	t.Cleanup(func() {
		close(s.done)
		srv.Close()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, c := range s.held {
			c.Close()
		}
	})
	return s
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}
func (discardLogger) Println(...any)        {}

// Fail queues faults, one per coming connection.
func (s *Server) Fail(fs ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fs...)
}

// OnData sets a function called once a message is read, before the server
// answers it.
func (s *Server) OnData(fn func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.onData = fn
}

// Received returns the messages taken so far.
func (s *Server) Received() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.messages...)
}

// popFault removes and returns the next fault if want accepts it.
func (s *Server) popFault(want func(Fault) bool) Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.faults) == 0 || !want(s.faults[0]) {
		return 0
	}
	f := s.faults[0]
	s.faults = s.faults[1:]
	return f
}

// faultyListener holds connections silently when the next fault is Silent.
type faultyListener struct {
	net.Listener
	s *Server
}

func (l *faultyListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.s.popFault(func(f Fault) bool { return f == Silent }) == 0 {
			return c, nil
		}
		l.s.mu.Lock()
		l.s.held = append(l.s.held, c)
		l.s.mu.Unlock()
	}
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	s.mu.Lock()
	f, seen := s.connFaults[c]
	s.mu.Unlock()
	if !seen {
		f = s.popFault(func(f Fault) bool { return f != Silent })
		s.mu.Lock()
		s.connFaults[c] = f
		s.mu.Unlock()
	}
	return &session{s: s, conn: c, fault: f}, nil
}

// session is one SMTP session.
type session struct {
	s      *Server
	conn   *smtp.Conn
	fault  Fault
	authed bool
	from   string
	to     []string
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if ss.fault == RefuseAuth || user != User || pass != Password {
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		ss.authed = true
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if !ss.authed {
		return &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0}, Message: "Authentication required"}
	}
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if ss.fault == RejectRecipient && to == RejectedRecipient {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such mailbox"}
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.fault == CloseMidData {
		io.CopyN(io.Discard, r, 200)
		ss.conn.Conn().Close()
		return errors.New("connection closed")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.messages = append(ss.s.messages, Received{From: ss.from, To: append([]string(nil), ss.to...), Data: data})
	onData := ss.s.onData
	ss.s.mu.Unlock()
	if onData != nil {
		onData()
	}
	if ss.fault == SilentAfterData {
		<-ss.s.done
		return errors.New("shut down")
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// certificates makes a self-signed certificate for 127.0.0.1: the server's
// configuration, a client configuration that trusts it, and its PEM.
func certificates() (server, client *tls.Config, certPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "mail.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool, ServerName: "127.0.0.1"},
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
}
