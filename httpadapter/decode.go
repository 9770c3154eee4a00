package httpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/licensekit/licensekit/store"
)

// mediaType returns the media type of r's Content-Type, lowercased, or ""
// when it is absent or does not parse.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return ""
	}
	// JSON and forms are UTF-8; another declared charset is not what the
	// body is decoded as.
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return ""
	}
	return mt
}

const (
	mediaJSON = "application/json"
	mediaForm = "application/x-www-form-urlencoded"
)

// readBody reads r's body up to the adapter's limit.
func (a *Adapter) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	if r.ContentLength > a.maxBody {
		return nil, errTooLarge
	}
	if r.Body == nil {
		return nil, nil
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.maxBody))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, errTooLarge
	case err != nil:
		return nil, badRequest("could not read the request body")
	}
	return b, nil
}

// decodeJSON reads r's body, which must be application/json holding one
// JSON object with no field dst does not have, into dst.
func (a *Adapter) decodeJSON(w http.ResponseWriter, r *http.Request, dst any) error {
	if mediaType(r) != mediaJSON {
		return errUnsupportedMedia
	}
	body, err := a.readBody(w, r)
	if err != nil {
		return err
	}
	return decodeJSONBytes(body, dst)
}

func decodeJSONBytes(body []byte, dst any) error {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 {
		return badRequest("the request body is empty: send a JSON object")
	}
	if trimmed[0] != '{' {
		return badRequest("the request body must be a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return badRequest(jsonMessage(err))
	}
	var extra json.RawMessage
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return badRequest("the request body has data after the JSON object")
	}
	return nil
}

// jsonMessage explains a JSON decoding error without repeating the
// client's values.
func jsonMessage(err error) string {
	var (
		se *json.SyntaxError
		te *json.UnmarshalTypeError
	)
	msg := err.Error()
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d", se.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "malformed JSON: unexpected end of the request body"
	case errors.As(err, &te):
		if te.Field == "" {
			return "the request body must be a JSON object"
		}
		return fmt.Sprintf("field %q must be %s", te.Field, jsonKind(te.Type))
	case strings.HasPrefix(msg, "json: unknown field "):
		name, uerr := strconv.Unquote(strings.TrimPrefix(msg, "json: unknown field "))
		if uerr != nil {
			return "unknown field"
		}
		if len(name) > 64 {
			name = name[:64] + "…"
		}
		return fmt.Sprintf("unknown field %q", name)
	}
	return "malformed JSON request body"
}

// jsonKind names the JSON kind a Go type decodes from.
func jsonKind(t reflect.Type) string {
	if t == nil {
		return "of another type"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Map, reflect.Struct:
		return "an object"
	case reflect.Slice, reflect.Array:
		return "an array"
	}
	return "of another type"
}

// decodeParams reads an OAuth-style request: application/json into dst,
// or application/x-www-form-urlencoded (RFC 6749), whose parameters are
// copied into dst's string fields by their json names. Unknown form
// parameters are ignored (RFC 6749 §3.2); a parameter given twice is an
// error (§3.1). Parameters in the URL's query are never read.
func (a *Adapter) decodeParams(w http.ResponseWriter, r *http.Request, dst any) error {
	switch mediaType(r) {
	case mediaJSON:
		body, err := a.readBody(w, r)
		if err != nil {
			return err
		}
		return decodeJSONBytes(body, dst)
	case mediaForm:
		body, err := a.readBody(w, r)
		if err != nil {
			return err
		}
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return badRequest("malformed form body")
		}
		v := reflect.ValueOf(dst).Elem()
		t := v.Type()
		for i := range t.NumField() {
			name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
			got := vals[name]
			switch {
			case len(got) > 1:
				return badRequest(fmt.Sprintf("parameter %q is given more than once", name))
			case len(got) == 1 && v.Field(i).Kind() == reflect.String:
				v.Field(i).SetString(got[0])
			}
		}
		return nil
	}
	return errUnsupportedMedia
}

// page reads the ?limit=N&cursor=C of a list request.
func page(r *http.Request) (store.Page, error) {
	q := r.URL.Query()
	var p store.Page
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return p, badRequest(fmt.Sprintf("limit must be an integer from 1 to %d", store.MaxPageLimit))
		}
		p.Limit = min(n, store.MaxPageLimit)
	}
	p.After = q.Get("cursor")
	return p, nil
}

// listBody is the JSON of a page of a list.
type listBody[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

func newList[T any](items []T, next string) listBody[T] {
	if items == nil {
		items = []T{}
	}
	return listBody[T]{Items: items, NextCursor: next}
}

// timestamp is an RFC 3339 time in a request body.
type timestamp string

// parse returns the time, zero for "".
func (s timestamp) parse(field string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return time.Time{}, badRequest(fmt.Sprintf("%s must be an RFC 3339 timestamp (2006-01-02T15:04:05Z)", field))
	}
	return t, nil
}

// optional is a field of a PATCH body that distinguishes absent (Set
// false), null (Null true) and a value.
type optional[T any] struct {
	Set  bool
	Null bool
	V    T
}

func (o *optional[T]) UnmarshalJSON(b []byte) error {
	o.Set = true
	if string(b) == "null" {
		o.Null = true
		return nil
	}
	return json.Unmarshal(b, &o.V)
}

// elemType tells the OpenAPI generator what o holds.
func (optional[T]) elemType() reflect.Type { return reflect.TypeFor[T]() }
