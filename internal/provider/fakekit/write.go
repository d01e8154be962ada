package fakekit

import (
	"encoding/json"
	"io"
	"net/http"
)

// WriteJSON answers status with v as JSON, labelled with the vendor's
// media type ("" is application/json): clients that check the media type
// must see the one the vendor sends.
func WriteJSON(w http.ResponseWriter, status int, contentType string, v any) {
	if contentType == "" {
		contentType = "application/json"
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// WriteText answers status with text as it is, in contentType.
func WriteText(w http.ResponseWriter, status int, contentType, text string) {
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = io.WriteString(w, text)
}
