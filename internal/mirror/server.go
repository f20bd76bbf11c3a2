package mirror

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Server is a mirror started on a loopback port. It records every request
// it answers. Its methods are safe for concurrent use.
type Server struct {
	srv       *http.Server
	ln        net.Listener
	transport *http.Transport
	done      chan error
	closeOnce sync.Once
	closeErr  error

	mu       sync.Mutex
	requests []Request
}

// Start serves [Handler](opts) on 127.0.0.1 at a free port. opts.OnRequest,
// if set, is still called. Close the server when done.
func Start(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("mirror: listening on loopback: %w", err)
	}
	s := &Server{ln: ln, done: make(chan error, 1)}
	next := opts.OnRequest
	opts.OnRequest = func(r Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r)
		s.mu.Unlock()
		if next != nil {
			next(r)
		}
	}
	s.srv = &http.Server{Handler: Handler(opts), ReadHeaderTimeout: 10 * time.Second}
	addr := ln.Addr().String()
	dialer := &net.Dialer{}
	s.transport = &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 4,
	}
	go func() {
		err := s.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
	return s, nil
}

// URL returns the server's base URL, "http://127.0.0.1:port". Requests
// sent to it directly carry an IP address as Host and get 404s; use
// [Server.Transport], or set the request's Host to a mirrored host.
func (s *Server) URL() string {
	return "http://" + s.ln.Addr().String()
}

// Close stops the server and closes the transport's idle connections.
// Calls after the first return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.transport.CloseIdleConnections()
		if err := s.srv.Close(); err != nil {
			s.closeErr = fmt.Errorf("mirror: closing server: %w", err)
			return
		}
		if err := <-s.done; err != nil {
			s.closeErr = fmt.Errorf("mirror: serving: %w", err)
		}
	})
	return s.closeErr
}

// Requests returns a copy of the requests answered so far, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Transport returns a round tripper that sends every request, for any host
// and for http or https, to this server over plain HTTP on loopback,
// keeping the original Host header so that the mirror can route it. The
// response's Request is the original request, so clients see the URL they
// asked for.
func (s *Server) Transport() http.RoundTripper {
	return roundTripper{s.transport}
}

type roundTripper struct {
	base *http.Transport
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme = "http"
	if out.Host == "" {
		out.Host = req.URL.Host
	}
	resp, err := rt.base.RoundTrip(out)
	if err != nil {
		return nil, fmt.Errorf("mirror: %s %s: %w", req.Method, req.URL, err)
	}
	resp.Request = req
	return resp, nil
}
