package api

import (
	"net/mail"
	"strings"
	"unicode/utf8"
)

// maskRecipients returns d with every recipient masked by maskAddress and
// ToMasked set; d's own list is left alone.
func maskRecipients(d DigestDTO) DigestDTO {
	masked := make([]string, len(d.To))
	for i, to := range d.To {
		masked[i] = maskAddress(to)
	}
	d.To, d.ToMasked = masked, true
	return d
}

// maskAddress hides an email address but for the first character of its
// local part and its domain: "Juana <juana@example.org>" becomes
// "j…@example.org". An address without a domain becomes "…".
func maskAddress(addr string) string {
	if a, err := mail.ParseAddress(addr); err == nil {
		addr = a.Address
	}
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "…"
	}
	first, _ := utf8.DecodeRuneInString(addr)
	return string(first) + "…" + addr[at:]
}
