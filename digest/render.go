package digest

import (
	"bytes"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"strings"
	texttemplate "text/template"

	mail "github.com/wneessen/go-mail"
)

//go:embed templates/*.tmpl
var embedded embed.FS

// Templates are template texts that replace the embedded ones; an empty
// field keeps the embedded template. Subject and Text are text/template,
// HTML is html/template; each is executed with the *Message, and may use
// the functions join, label ("root_cause" → "root-cause") and plural.
type Templates struct {
	Subject string
	Text    string
	HTML    string
}

// EmbeddedTemplates returns the embedded templates, to start an override
// from.
func EmbeddedTemplates() Templates {
	read := func(name string) string {
		data, err := embedded.ReadFile("templates/" + name)
		if err != nil {
			panic(err) // the files are embedded: a build error
		}
		return string(data)
	}
	return Templates{Subject: read("subject.tmpl"), Text: read("digest.txt.tmpl"), HTML: read("digest.html.tmpl")}
}

// renderer holds one digest's parsed templates.
type renderer struct {
	subject, text *texttemplate.Template
	html          *htmltemplate.Template
}

var funcs = map[string]any{
	"join":   strings.Join,
	"label":  labelWord,
	"plural": plural,
}

// newRenderer parses t, falling back to the embedded templates.
func newRenderer(t Templates) (*renderer, error) {
	def := EmbeddedTemplates()
	pick := func(own, embedded string) string {
		if strings.TrimSpace(own) != "" {
			return own
		}
		return embedded
	}
	var r renderer
	var err error
	if r.subject, err = texttemplate.New("subject").Funcs(funcs).Parse(pick(t.Subject, def.Subject)); err != nil {
		return nil, fmt.Errorf("subject template: %v", err)
	}
	if r.text, err = texttemplate.New("text").Funcs(funcs).Parse(pick(t.Text, def.Text)); err != nil {
		return nil, fmt.Errorf("text template: %v", err)
	}
	if r.html, err = htmltemplate.New("html").Funcs(funcs).Parse(pick(t.HTML, def.HTML)); err != nil {
		return nil, fmt.Errorf("HTML template: %v", err)
	}
	return &r, nil
}

// render fills in m's subject, text and HTML.
func (r *renderer) render(m *Message) error {
	var b bytes.Buffer
	if err := r.subject.Execute(&b, m); err != nil {
		return fmt.Errorf("subject template: %v", err)
	}
	// A subject is one line whatever the template or the titles hold.
	m.Subject = oneLine(b.String())
	b.Reset()
	if err := r.text.Execute(&b, m); err != nil {
		return fmt.Errorf("text template: %v", err)
	}
	m.Text = b.String()
	b.Reset()
	if err := r.html.Execute(&b, m); err != nil {
		return fmt.Errorf("HTML template: %v", err)
	}
	m.HTML = b.String()
	return nil
}

// envelope builds the MIME message of m with go-mail: multipart/alternative
// with the plain text and the HTML, headers encoded by go-mail.
func (s *Sender) envelope(d Definition, m Message) (Envelope, error) {
	msg := mail.NewMsg()
	if err := msg.From(s.opts.From); err != nil {
		return Envelope{}, fmt.Errorf("digest %s: sender address %q: %v", d.Name, s.opts.From, err)
	}
	if err := msg.To(m.To...); err != nil {
		return Envelope{}, fmt.Errorf("digest %s: recipients %q: %v", d.Name, m.To, err)
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(m.MessageID)
	msg.SetDateWithValue(m.Date)
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Atalaya-Digest", d.Name)
	msg.SetBodyString(mail.TypeTextPlain, m.Text)
	msg.AddAlternativeString(mail.TypeTextHTML, m.HTML)
	return Envelope{MessageID: m.MessageID, Digest: d.Name, Seq: m.Seq, Msg: msg}, nil
}
