package archive

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"atalaya"
)

// WARC record types written by the archive.
const (
	typeWarcinfo = "warcinfo"
	typeResponse = "response"
	typeMetadata = "metadata"
)

// Limits that keep the record reader bounded on damaged or hostile input.
const (
	maxHeaderLines = 64
	maxHeaderLine  = 16 << 10
	maxBlock       = 256 << 20
)

const warcVersion = "WARC/1.1"

// field is one named header of a WARC record or of an HTTP response.
type field struct {
	Name, Value string
}

// record is one WARC record: its named headers, in order, and its block.
// Content-Length is derived from Block when writing and checked when reading;
// it is not kept in Header.
type record struct {
	Header []field
	Block  []byte
}

// get returns the value of the first header named name (case-insensitive).
func (r record) get(name string) string {
	for _, f := range r.Header {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

// validField reports whether name and value can be written as a header line
// and read back unchanged.
func validField(name, value string) bool {
	if name == "" || strings.ContainsAny(name, ":\r\n \t") {
		return false
	}
	if strings.ContainsAny(value, "\r\n") {
		return false
	}
	return strings.TrimSpace(value) == value
}

// writeRecord writes r to w in WARC 1.1 framing: version line, headers,
// Content-Length, a blank line, the block and two CRLFs.
func writeRecord(w io.Writer, r record) error {
	var b bytes.Buffer
	b.WriteString(warcVersion + "\r\n")
	for _, f := range r.Header {
		if !validField(f.Name, f.Value) || strings.EqualFold(f.Name, "Content-Length") {
			return fmt.Errorf("archive: invalid WARC header %q: %q", f.Name, f.Value)
		}
		b.WriteString(f.Name + ": " + f.Value + "\r\n")
	}
	b.WriteString("Content-Length: " + strconv.Itoa(len(r.Block)) + "\r\n\r\n")
	if _, err := w.Write(b.Bytes()); err != nil {
		return err
	}
	if _, err := w.Write(r.Block); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\r\n\r\n")
	return err
}

// errRecord marks a malformed WARC record.
var errRecord = errors.New("archive: malformed WARC record")

// readRecord reads one WARC record from br.
func readRecord(br *bufio.Reader) (record, error) {
	line, err := readLine(br)
	if err != nil {
		return record{}, err
	}
	if line != warcVersion {
		return record{}, fmt.Errorf("%w: version line %q", errRecord, line)
	}
	var r record
	length := -1
	for i := 0; ; i++ {
		if i > maxHeaderLines {
			return record{}, fmt.Errorf("%w: more than %d headers", errRecord, maxHeaderLines)
		}
		line, err := readLine(br)
		if err != nil {
			return record{}, err
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok || !validField(name, value) {
			return record{}, fmt.Errorf("%w: header line %q", errRecord, line)
		}
		if !strings.EqualFold(name, "Content-Length") {
			r.Header = append(r.Header, field{name, value})
			continue
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 0 || n > maxBlock || length >= 0 {
			return record{}, fmt.Errorf("%w: Content-Length %q", errRecord, value)
		}
		length = n
	}
	if length < 0 {
		return record{}, fmt.Errorf("%w: no Content-Length", errRecord)
	}
	r.Block = make([]byte, length+4)
	if _, err := io.ReadFull(br, r.Block); err != nil {
		return record{}, fmt.Errorf("%w: block: %v", errRecord, err)
	}
	if string(r.Block[length:]) != "\r\n\r\n" {
		return record{}, fmt.Errorf("%w: block not followed by CRLF CRLF", errRecord)
	}
	r.Block = r.Block[:length:length]
	if err := verifyDigests(r); err != nil {
		return record{}, err
	}
	return r, nil
}

// Digests of a record: WARC-Block-Digest over its block, and for a response
// WARC-Payload-Digest over the HTTP body. They are written as SHA-1 in
// base 32, the form WARC tools use.
const (
	headerBlockDigest   = "WARC-Block-Digest"
	headerPayloadDigest = "WARC-Payload-Digest"
	digestPrefix        = "sha1:"
)

// digestOf returns the WARC digest of data.
func digestOf(data []byte) string {
	sum := sha1.Sum(data)
	return digestPrefix + base32.StdEncoding.EncodeToString(sum[:])
}

// withDigests returns r with its digest headers added.
func withDigests(r record) record {
	r.Header = append(r.Header, field{headerBlockDigest, digestOf(r.Block)})
	if payload, ok := httpPayload(r); ok {
		r.Header = append(r.Header, field{headerPayloadDigest, digestOf(payload)})
	}
	return r
}

// httpPayload returns the body of the HTTP message in a response record.
func httpPayload(r record) ([]byte, bool) {
	if r.get("WARC-Type") != typeResponse {
		return nil, false
	}
	_, body, ok := bytes.Cut(r.Block, []byte("\r\n\r\n"))
	return body, ok
}

// verifyDigests checks the SHA-1 digests r carries against its block and
// payload. A record without digests (written before atalaya wrote them) or
// with another algorithm passes: there is nothing this code can check.
func verifyDigests(r record) error {
	if want := r.get(headerBlockDigest); strings.HasPrefix(want, digestPrefix) && digestOf(r.Block) != want {
		return fmt.Errorf("%w: block does not match its %s %s", errRecord, headerBlockDigest, want)
	}
	if want := r.get(headerPayloadDigest); strings.HasPrefix(want, digestPrefix) {
		payload, ok := httpPayload(r)
		if !ok || digestOf(payload) != want {
			return fmt.Errorf("%w: HTTP body does not match its %s %s", errRecord, headerPayloadDigest, want)
		}
	}
	return nil
}

// readLine reads a CRLF-terminated line of at most maxHeaderLine bytes and
// returns it without the CRLF.
func readLine(br *bufio.Reader) (string, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		line = append(line, chunk...)
		if len(line) > maxHeaderLine {
			return "", fmt.Errorf("%w: header line longer than %d bytes", errRecord, maxHeaderLine)
		}
		if err == nil {
			break
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(line) > 0 {
			return "", fmt.Errorf("%w: truncated header", errRecord)
		}
		return "", err
	}
	s, ok := strings.CutSuffix(string(line), "\r\n")
	if !ok {
		return "", fmt.Errorf("%w: line not ended by CRLF", errRecord)
	}
	return s, nil
}

// newRecordID returns a fresh WARC-Record-ID: a random (version 4) UUID URN.
func newRecordID() string {
	var u [16]byte
	rand.Read(u[:]) // never returns an error (crypto/rand documentation)
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("<urn:uuid:%x-%x-%x-%x-%x>", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// warcDate formats t as a WARC-Date: UTC, RFC 3339, with fractions of a
// second when there are any (allowed since WARC 1.1).
func warcDate(t time.Time) string {
	return t.UTC().Format(time.RFC3339Nano)
}

// httpBlock returns the block of a response record: the HTTP status line,
// the headers (sorted by name, values in order) and the body. Header lines
// that could not be read back (a line break in a value, an invalid name) are
// left out.
func httpBlock(p atalaya.Page) []byte {
	var b bytes.Buffer
	text := http.StatusText(p.Status)
	fmt.Fprintf(&b, "HTTP/1.1 %03d %s\r\n", p.Status, text)
	names := make([]string, 0, len(p.Header))
	for name := range p.Header {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		for _, v := range p.Header[name] {
			if validField(name, v) {
				b.WriteString(name + ": " + v + "\r\n")
			}
		}
	}
	b.WriteString("\r\n")
	b.Write(p.Body)
	return b.Bytes()
}

// parseHTTPBlock reads back what httpBlock wrote: status, headers and body.
// URL and FetchedAt come from the WARC headers and are left zero.
func parseHTTPBlock(block []byte) (atalaya.Page, error) {
	br := bufio.NewReader(bytes.NewReader(block))
	status, err := readLine(br)
	if err != nil {
		return atalaya.Page{}, fmt.Errorf("archive: HTTP status line: %v", err)
	}
	proto, rest, ok := strings.Cut(status, " ")
	code, _, _ := strings.Cut(rest, " ")
	n, err := strconv.Atoi(code)
	if !ok || !strings.HasPrefix(proto, "HTTP/") || len(code) != 3 || err != nil {
		return atalaya.Page{}, fmt.Errorf("archive: bad HTTP status line %q", status)
	}
	var header http.Header
	for {
		line, err := readLine(br)
		if err != nil {
			return atalaya.Page{}, fmt.Errorf("archive: HTTP header: %v", err)
		}
		if line == "" {
			break
		}
		name, value, ok := strings.Cut(line, ": ")
		if !ok || !validField(name, value) {
			return atalaya.Page{}, fmt.Errorf("archive: bad HTTP header line %q", line)
		}
		if header == nil {
			header = make(http.Header)
		}
		header[name] = append(header[name], value)
	}
	body, _ := io.ReadAll(br) // reading from memory cannot fail
	return atalaya.Page{Status: n, Header: header, Body: body}, nil
}
