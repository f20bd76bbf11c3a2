package browser

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/chromedp/cdproto/fetch"
	cdpio "github.com/chromedp/cdproto/io"
	"github.com/chromedp/chromedp"
)

// DefaultMaxBodySize is TransportOptions.MaxBodySize when unset: the
// crawler's default page size limit.
const DefaultMaxBodySize = 10 << 20

// bodyChunk is the most bytes asked of the browser at once when reading a
// non-HTML body.
const bodyChunk = 256 << 10

// tooLargeError is a page over the size limit, refused before its bytes
// were read (or, for a body of unknown size, as soon as they passed the
// limit). It matches [ErrTooLarge]; the crawler, which does not import
// this package, recognises it by its TooLarge method, as net/http
// recognises a timeout by its Timeout method.
type tooLargeError struct {
	limit int
	what  string // "the rendered DOM is at least 123456 bytes"
}

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("%v of %d bytes: %s", ErrTooLarge, e.limit, e.what)
}

// TooLarge reports that the page was refused for its size.
func (e *tooLargeError) TooLarge() bool       { return true }
func (e *tooLargeError) Is(target error) bool { return target == ErrTooLarge }

// measuredDOM is what domScript returns: the document's serialization, or
// only its size when that is over the limit.
type measuredDOM struct {
	Over bool   `json:"over"`
	Size int64  `json:"size"` // UTF-8 bytes; when Over, at least this many
	HTML string `json:"html"`
}

// domScript serializes the document in the page and returns it only when
// its UTF-8 encoding fits in limit bytes, so that a DOM built huge by a
// script never crosses the DevTools connection. A JavaScript string's
// length (UTF-16 units) is at most its UTF-8 length, and at least a third
// of it: only between the two is it encoded to be measured.
func domScript(limit int) string {
	n := strconv.Itoa(limit)
	return `(() => {
  const html = "" + (` + serializeDOM + `);
  if (html.length > ` + n + `) return {over: true, size: html.length};
  if (html.length * 3 > ` + n + `) {
    const size = new TextEncoder().encode(html).length;
    if (size > ` + n + `) return {over: true, size: size};
  }
  return {over: false, html: html};
})()`
}

// readDOM returns the rendered DOM, or a tooLargeError without reading it
// when it is over limit bytes.
func readDOM(ctx context.Context, limit int) ([]byte, error) {
	dom, err := chromedp.Run(ctx, chromedp.Evaluate[measuredDOM](domScript(limit)))
	if err != nil {
		return nil, fmt.Errorf("reading the DOM: %w", err)
	}
	if dom.Over {
		return nil, &tooLargeError{limit, fmt.Sprintf("the rendered DOM is at least %d bytes", dom.Size)}
	}
	// The page's scripts can replace the functions the script measures
	// with; the bytes received are checked again.
	if len(dom.HTML) > limit {
		return nil, &tooLargeError{limit, fmt.Sprintf("the rendered DOM is %d bytes", len(dom.HTML))}
	}
	return []byte(dom.HTML), nil
}

// readBody reads the body of a response paused in the Fetch domain,
// refusing one over limit bytes: by its Content-Length before any byte is
// read, and otherwise (no Content-Length, or a compressed body whose
// decoded size no header gives) by reading it as a stream, a chunk at a
// time, stopping as soon as more than limit bytes have come. At most
// limit+1 bytes of it are ever held. The request cannot be continued
// afterwards: the caller fails it.
func readBody(ctx context.Context, id fetch.RequestID, header http.Header, limit int) ([]byte, error) {
	if n, err := strconv.ParseInt(header.Get("Content-Length"), 10, 64); err == nil && n > int64(limit) && identityEncoded(header) {
		return nil, &tooLargeError{limit, fmt.Sprintf("the response is %d bytes (Content-Length)", n)}
	}
	res, err := chromedp.Call(ctx, fetch.TakeResponseBodyAsStream, fetch.TakeResponseBodyAsStreamParams{RequestID: id})
	if err != nil {
		return nil, fmt.Errorf("%w: reading the response body: %v", ErrLoad, err)
	}
	defer func() { _, _ = chromedp.Call(ctx, cdpio.Close, cdpio.CloseParams{Handle: res.Stream}) }()
	var body []byte
	for {
		chunk, err := chromedp.Call(ctx, cdpio.Read, cdpio.ReadParams{Handle: res.Stream, Size: int64(min(bodyChunk, limit+1-len(body)))})
		if err != nil {
			return nil, fmt.Errorf("%w: reading the response body: %v", ErrLoad, err)
		}
		body = append(body, chunk.Data...)
		if len(body) > limit {
			return nil, &tooLargeError{limit, "the response went past it while being read, of unknown size"}
		}
		if chunk.EOF {
			return body, nil
		}
	}
}

// identityEncoded reports whether the body is sent as is, so that its
// Content-Length is the size of the bytes the browser would hand over.
func identityEncoded(header http.Header) bool {
	enc := header.Get("Content-Encoding")
	return enc == "" || enc == "identity"
}
