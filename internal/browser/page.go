package browser

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"
)

// IgnoreCertificateErrors makes the browser accept any certificate, such
// as a test server's self-signed one.
func (b *Browser) IgnoreCertificateErrors(ctx context.Context) error {
	return b.Call(ctx, "", "Security.setIgnoreCertificateErrors", map[string]any{"ignore": true}, nil)
}

// Page is a browser tab attached through DevTools.
type Page struct {
	b       *Browser
	target  string
	session string
}

// Open opens url in a new tab and waits until its document has loaded.
func (b *Browser) Open(ctx context.Context, url string) (*Page, error) {
	var created struct {
		TargetID string `json:"targetId"`
	}
	if err := b.Call(ctx, "", "Target.createTarget", map[string]any{"url": url}, &created); err != nil {
		return nil, err
	}
	var attached struct {
		SessionID string `json:"sessionId"`
	}
	params := map[string]any{"targetId": created.TargetID, "flatten": true}
	if err := b.Call(ctx, "", "Target.attachToTarget", params, &attached); err != nil {
		return nil, err
	}
	p := &Page{b: b, target: created.TargetID, session: attached.SessionID}
	// A new tab is about:blank, complete, until the navigation commits.
	if err := p.WaitFor(ctx, "location.href !== 'about:blank' && document.readyState === 'complete'"); err != nil {
		return nil, err
	}
	return p, nil
}

// Eval evaluates a JavaScript expression in the page, waiting for it if it
// is a promise, and decodes its value into result (if not nil). A thrown
// exception is an error.
func (p *Page) Eval(ctx context.Context, expr string, result any) error {
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text      string `json:"text"`
			Exception struct {
				Description string `json:"description"`
			} `json:"exception"`
		} `json:"exceptionDetails"`
	}
	params := map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true}
	if err := p.b.Call(ctx, p.session, "Runtime.evaluate", params, &r); err != nil {
		return err
	}
	if e := r.ExceptionDetails; e != nil {
		return fmt.Errorf("browser: %s: %s %s", expr, e.Text, e.Exception.Description)
	}
	if result == nil || len(r.Result.Value) == 0 {
		return nil
	}
	return json.Unmarshal(r.Result.Value, result)
}

// WaitFor evaluates the boolean expression cond every 25 ms until it is
// true or ctx is done. An error or a false while polling is not fatal: the
// page may still be loading.
func (p *Page) WaitFor(ctx context.Context, cond string) error {
	var last error
	for {
		var ok bool
		err := p.Eval(ctx, cond, &ok)
		if err == nil && ok {
			return nil
		}
		if err != nil {
			last = err
		}
		select {
		case <-ctx.Done():
			if last != nil {
				return fmt.Errorf("browser: waiting for %s: %w (last error: %v)", cond, ctx.Err(), last)
			}
			return fmt.Errorf("browser: waiting for %s: %w", cond, ctx.Err())
		case <-time.After(25 * time.Millisecond):
		}
	}
}

// Texts returns the textContent of every element matching a CSS selector.
func (p *Page) Texts(ctx context.Context, selector string) ([]string, error) {
	var texts []string
	err := p.Eval(ctx, fmt.Sprintf("Array.from(document.querySelectorAll(%s), e => e.textContent)", jsString(selector)), &texts)
	return texts, err
}

// WaitTexts waits until at least n elements match selector and returns the
// textContent of each.
func (p *Page) WaitTexts(ctx context.Context, selector string, n int) ([]string, error) {
	if err := p.WaitFor(ctx, fmt.Sprintf("document.querySelectorAll(%s).length >= %d", jsString(selector), n)); err != nil {
		return nil, err
	}
	return p.Texts(ctx, selector)
}

// Text returns the textContent of the first element matching selector.
func (p *Page) Text(ctx context.Context, selector string) (string, error) {
	var text string
	err := p.Eval(ctx, fmt.Sprintf("document.querySelector(%s).textContent", jsString(selector)), &text)
	return text, err
}

// Type focuses the element matching selector and types text into it, as
// keyboard input would (Input.insertText fires the input events).
func (p *Page) Type(ctx context.Context, selector, text string) error {
	if err := p.Eval(ctx, fmt.Sprintf("document.querySelector(%s).focus()", jsString(selector)), nil); err != nil {
		return err
	}
	return p.b.Call(ctx, p.session, "Input.insertText", map[string]any{"text": text}, nil)
}

// Click clicks the element matching selector.
func (p *Page) Click(ctx context.Context, selector string) error {
	return p.Eval(ctx, fmt.Sprintf("document.querySelector(%s).click()", jsString(selector)), nil)
}

// Screenshot returns a PNG of the page as shown.
func (p *Page) Screenshot(ctx context.Context) ([]byte, error) {
	var r struct {
		Data string `json:"data"`
	}
	if err := p.b.Call(ctx, p.session, "Page.captureScreenshot", map[string]any{"format": "png"}, &r); err != nil {
		return nil, err
	}
	return base64.StdEncoding.DecodeString(r.Data)
}

// Close closes the tab, which closes its WebSockets as a leaving user's
// would.
func (p *Page) Close(ctx context.Context) error {
	return p.b.Call(ctx, "", "Target.closeTarget", map[string]any{"targetId": p.target}, nil)
}

// jsString quotes s as a JavaScript string literal.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
