package archive

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"atalaya"
)

func TestReadRecordErrors(t *testing.T) {
	tests := []struct {
		name, input, wantErr string
	}{
		{"empty", "", "EOF"},
		{"version", "WARC/1.0\r\n\r\n", "version line"},
		{"no CRLF", "WARC/1.1\n", "not ended by CRLF"},
		{"no length", "WARC/1.1\r\nWARC-Type: response\r\n\r\n", "no Content-Length"},
		{"bad length", "WARC/1.1\r\nContent-Length: -1\r\n\r\n", "Content-Length"},
		{"huge length", "WARC/1.1\r\nContent-Length: 999999999999\r\n\r\n", "Content-Length"},
		{"two lengths", "WARC/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx\r\n\r\n", "Content-Length"},
		{"bad header", "WARC/1.1\r\nno colon\r\n\r\n", "header line"},
		{"short block", "WARC/1.1\r\nContent-Length: 10\r\n\r\nabc", "block"},
		{"no trailer", "WARC/1.1\r\nContent-Length: 3\r\n\r\nabcdefg", "CRLF CRLF"},
		{"truncated header", "WARC/1.1\r\nWARC-Type: resp", "truncated header"},
		{"long line", "WARC/1.1\r\nX: " + strings.Repeat("a", maxHeaderLine) + "\r\n", "longer than"},
		{"many headers", "WARC/1.1\r\n" + strings.Repeat("X: y\r\n", maxHeaderLines+2), "headers"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := readRecord(bufio.NewReader(strings.NewReader(tt.input)))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("readRecord: got error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestHTTPBlockRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		page atalaya.Page
		want atalaya.Page
	}{
		{
			name: "headers and body",
			page: atalaya.Page{Status: 200, Header: http.Header{"B": {"2"}, "A": {"1", "1b"}}, Body: []byte("body\r\n\r\nmore")},
			want: atalaya.Page{Status: 200, Header: http.Header{"B": {"2"}, "A": {"1", "1b"}}, Body: []byte("body\r\n\r\nmore")},
		},
		{
			name: "unknown status, no headers, empty body",
			page: atalaya.Page{Status: 599},
			want: atalaya.Page{Status: 599, Body: []byte{}},
		},
		{
			name: "unwritable header values are left out",
			page: atalaya.Page{Status: 404, Header: http.Header{"X": {"a\r\nInjected: 1", "ok"}, "Bad Name": {"v"}}, Body: []byte("x")},
			want: atalaya.Page{Status: 404, Header: http.Header{"X": {"ok"}}, Body: []byte("x")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseHTTPBlock(httpBlock(tt.page))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// FuzzReadRecord feeds arbitrary bytes to the record reader. It must not
// panic, and whatever it accepts must survive a write and a second read
// unchanged.
func FuzzReadRecord(f *testing.F) {
	var seed bytes.Buffer
	writeRecord(&seed, record{Header: []field{{"WARC-Type", "response"}, {"WARC-Target-URI", "https://x.test/"}}, Block: []byte("HTTP/1.1 200 OK\r\n\r\nhi")})
	f.Add(seed.Bytes())
	f.Add([]byte("WARC/1.1\r\nContent-Length: 0\r\n\r\n\r\n\r\n"))
	f.Add([]byte("WARC/1.1\r\nContent-Length: 5\r\n\r\nab"))
	f.Add([]byte("WARC/1.1\r\nA: b\r\nContent-Length: 1\r\n\r\nx\r\n\r\nWARC/1.1\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		for {
			rec, err := readRecord(br)
			if err != nil {
				return
			}
			parseHTTPBlock(rec.Block) // must not panic on any block
			var buf bytes.Buffer
			if err := writeRecord(&buf, rec); err != nil {
				t.Fatalf("writeRecord of a record read back: %v", err)
			}
			again, err := readRecord(bufio.NewReader(&buf))
			if err != nil {
				t.Fatalf("reading a written record: %v", err)
			}
			if diff := cmp.Diff(rec, again); diff != "" {
				t.Fatalf("round trip mismatch (-first +second):\n%s", diff)
			}
		}
	})
}

// FuzzRecordRoundTrip writes records built from arbitrary fields: the writer
// must refuse what it cannot frame, and the reader must return exactly what
// the writer accepted, including the HTTP page in the block.
func FuzzRecordRoundTrip(f *testing.F) {
	f.Add("WARC-Target-URI", "https://x.test/a?b=c", 200, "Content-Type", "text/html", []byte("<p>hola</p>"))
	f.Add("X", " spaced ", 301, "Location", "/b\r\n", []byte{})
	f.Add("Bad:Name", "v", 99, "", "", []byte("\r\n\r\n"))
	f.Add("WARC-Block-Digest", "sha1:AAAA", 200, "", "", []byte("x"))
	f.Fuzz(func(t *testing.T, name, value string, status int, hname, hvalue string, body []byte) {
		page := atalaya.Page{Status: status, Header: http.Header{hname: {hvalue}}, Body: body}
		rec := record{Header: []field{{"WARC-Type", "response"}, {name, value}}, Block: httpBlock(page)}
		var buf bytes.Buffer
		err := writeRecord(&buf, rec)
		if !validField(name, value) || strings.EqualFold(name, "Content-Length") {
			if err == nil {
				t.Fatalf("writeRecord accepted header %q: %q", name, value)
			}
			return
		}
		if err != nil {
			t.Fatalf("writeRecord: %v", err)
		}
		br := bufio.NewReader(&buf)
		got, err := readRecord(br)
		if (strings.EqualFold(name, headerBlockDigest) || strings.EqualFold(name, headerPayloadDigest)) && strings.HasPrefix(value, digestPrefix) {
			return // a digest that does not match is refused: TestDigestMismatch
		}
		if err := verifyDigests(withDigests(rec)); err != nil {
			t.Fatalf("verifyDigests of a record given its digests: %v", err)
		}
		if err != nil {
			t.Fatalf("readRecord: %v", err)
		}
		if diff := cmp.Diff(rec, got); diff != "" {
			t.Fatalf("record round trip mismatch (-want +got):\n%s", diff)
		}
		if _, err := readRecord(br); !errors.Is(err, io.EOF) {
			t.Fatalf("after the record: got %v, want io.EOF", err)
		}
		if status < 100 || status > 999 {
			return
		}
		p, err := parseHTTPBlock(got.Block)
		if err != nil {
			t.Fatalf("parseHTTPBlock: %v", err)
		}
		want := atalaya.Page{Status: status, Body: body}
		if validField(hname, hvalue) {
			want.Header = http.Header{hname: {hvalue}}
		}
		if want.Body == nil {
			want.Body = []byte{}
		}
		if diff := cmp.Diff(want, p); diff != "" {
			t.Fatalf("page round trip mismatch (-want +got):\n%s", diff)
		}
	})
}
