package smtptest

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"regexp"
	"slices"
	"strings"
)

// Mail is a received digest taken apart.
type Mail struct {
	Header  netmail.Header
	Subject string // decoded
	Text    string // the text/plain part, decoded, with LF line ends
	HTML    string // the text/html part, decoded, with LF line ends
}

// Parse takes a multipart/alternative message apart: its headers, and its
// text/plain and text/html parts decoded by their Content-Transfer-Encoding
// (which must be quoted-printable or base64) from UTF-8.
func Parse(data []byte) (*Mail, error) {
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("reading message: %v", err)
	}
	m := &Mail{Header: msg.Header}
	if m.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		return nil, fmt.Errorf("decoding subject %q: %v", msg.Header.Get("Subject"), err)
	}
	mediaType, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/alternative" {
		return nil, fmt.Errorf("Content-Type: got %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading MIME part: %v", err)
		}
		var body io.Reader
		switch enc := p.Header.Get("Content-Transfer-Encoding"); strings.ToLower(enc) {
		case "quoted-printable":
			body = quotedprintable.NewReader(p)
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, p)
		default:
			return nil, fmt.Errorf("part %s: Content-Transfer-Encoding %q; want quoted-printable or base64", p.Header.Get("Content-Type"), enc)
		}
		text, err := io.ReadAll(body)
		if err != nil {
			return nil, fmt.Errorf("decoding part: %v", err)
		}
		ct, ctParams, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(ctParams["charset"], "utf-8") {
			return nil, fmt.Errorf("part %s: charset %q, want UTF-8", ct, ctParams["charset"])
		}
		s := strings.ReplaceAll(string(text), "\r\n", "\n")
		switch ct {
		case "text/plain":
			m.Text = s
		case "text/html":
			m.HTML = s
		default:
			return nil, fmt.Errorf("unexpected part %s", ct)
		}
	}
	if m.Text == "" || m.HTML == "" {
		return nil, fmt.Errorf("message lacks a text or an HTML part")
	}
	return m, nil
}

var releaseLink = regexp.MustCompile(`In Atalaya: \S*/releases/([0-9a-f]+)`)

// ReleaseIDs returns the releases a digest's text part lists.
func ReleaseIDs(text string) []string {
	var ids []string
	for _, m := range releaseLink.FindAllStringSubmatch(text, -1) {
		ids = append(ids, m[1])
	}
	return ids
}

// DeliveryCounts parses messages and returns, per release, the number of
// distinct messages (by Message-ID) that listed it. It is an error for two
// copies of one Message-ID to list different releases.
func DeliveryCounts(msgs []Received) (map[string]int, error) {
	byMessage := map[string][]string{}
	for _, r := range msgs {
		m, err := Parse(r.Data)
		if err != nil {
			return nil, err
		}
		id := m.Header.Get("Message-Id")
		ids := ReleaseIDs(m.Text)
		if prev, seen := byMessage[id]; seen && !slices.Equal(prev, ids) {
			return nil, fmt.Errorf("two messages with Message-ID %s list different releases: %v and %v", id, prev, ids)
		}
		byMessage[id] = ids
	}
	count := map[string]int{}
	for _, ids := range byMessage {
		for _, id := range ids {
			count[id]++
		}
	}
	return count, nil
}
