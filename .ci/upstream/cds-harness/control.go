package main

import (
	"encoding/json"
	"io"
	"net/http"

	stnrv1 "github.com/l7mp/stunner/pkg/apis/v1"
	"sigs.k8s.io/yaml"
)

// newControlAPI is the HTTP API a test drives the harness with:
//
//	PUT    /configs/{namespace}/{name}  body: a stunnerd v1 config (JSON or YAML), served as given,
//	                                    not validated; fields upstream does not know are a 400
//	DELETE /configs/{namespace}/{name}  the watchers get a zero-config; 404 if there was none
//	GET    /configs                     {"<id>": config, ...}: what the server's store holds
//	GET    /clients                     ["tcp:127.0.0.1:port", ...]: watchers connected now
//	POST   /disconnect                  closes every watcher connection, keeps serving
//	POST   /push?node=NAME              re-sends the configs to the watchers of node NAME
func newControlAPI(c *cds) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /configs/{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		conf := &stnrv1.StunnerConfig{}
		if err := yaml.UnmarshalStrict(body, conf); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		id := r.PathValue("namespace") + "/" + r.PathValue("name")
		if err := c.upsert(id, conf); err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"id": id})
	})
	mux.HandleFunc("DELETE /configs/{namespace}/{name}", func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("namespace") + "/" + r.PathValue("name")
		removed, err := c.remove(id)
		switch {
		case err != nil:
			writeError(w, http.StatusInternalServerError, err)
		case !removed:
			writeJSON(w, http.StatusNotFound, map[string]string{"error": "no config for " + id})
		default:
			writeJSON(w, http.StatusOK, map[string]string{"id": id})
		}
	})
	mux.HandleFunc("GET /configs", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, c.served())
	})
	mux.HandleFunc("GET /clients", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, c.clients())
	})
	mux.HandleFunc("POST /disconnect", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"closed": c.disconnect()})
	})
	mux.HandleFunc("POST /push", func(w http.ResponseWriter, r *http.Request) {
		c.pushNode(r.URL.Query().Get("node"))
		writeJSON(w, http.StatusOK, map[string]string{"node": r.URL.Query().Get("node")})
	})
	return mux
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v) //nolint:errcheck
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}
