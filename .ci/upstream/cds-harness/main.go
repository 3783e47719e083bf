// Command cds-harness serves upstream STUNner's own config discovery server (the package
// github.com/l7mp/stunner/pkg/config/server that stunner-gateway-operator runs) on a loopback
// address, with a small HTTP control API next to it through which a test sets the configs the
// server hands out. It exists so that stunnerd (upstream's or ours) can be tested against the real
// CDS code; see docs/cds-protocol.md for the protocol.
//
// On start it prints one JSON line on stdout: {"cds":"127.0.0.1:P","control":"127.0.0.1:Q","pid":N}.
// SIGTERM or SIGINT closes the server the way the operator does on shutdown (a close frame to
// every watcher), then exits 0.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	cdsserver "github.com/l7mp/stunner/pkg/config/server"
)

// nodeAddresses collects repeated --node-address NAME=IP flags.
type nodeAddresses map[string]string

func (n nodeAddresses) String() string { return fmt.Sprint(map[string]string(n)) }

func (n nodeAddresses) Set(v string) error {
	name, addr, ok := strings.Cut(v, "=")
	if !ok || name == "" || net.ParseIP(addr) == nil {
		return fmt.Errorf("want NAME=IP, got %q", v)
	}
	n[name] = addr
	return nil
}

func main() {
	nodes := nodeAddresses{}
	cdsAddr := flag.String("cds-addr", "127.0.0.1:0", "address the CDS server listens on (port 0: a free port)")
	controlAddr := flag.String("control-addr", "127.0.0.1:0", "address of the control API (port 0: a free port)")
	verbosity := flag.Int("v", 0, "log verbosity of the CDS server (0-4, logr levels; logs go to stderr)")
	flag.Var(nodes, "node-address", "NAME=IP: the external address of node NAME for listener address patching (repeatable)")
	flag.Parse()

	log := funcr.New(func(prefix, args string) {
		fmt.Fprintln(os.Stderr, prefix, args)
	}, funcr.Options{Verbosity: *verbosity})

	if err := run(*cdsAddr, *controlAddr, nodes, log); err != nil {
		fmt.Fprintln(os.Stderr, "cds-harness:", err)
		os.Exit(1)
	}
}

func run(cdsAddr, controlAddr string, nodes nodeAddresses, log logr.Logger) error {
	// The server opens its listener itself and does not say which port it got, so a port 0 is
	// resolved here first.
	addr, err := resolvePort(cdsAddr)
	if err != nil {
		return fmt.Errorf("--cds-addr: %w", err)
	}
	cds := newCDS(addr, nodes, log)
	if err := cds.start(); err != nil {
		return err
	}

	control, err := net.Listen("tcp", controlAddr)
	if err != nil {
		return fmt.Errorf("--control-addr: %w", err)
	}
	go http.Serve(control, newControlAPI(cds)) //nolint:errcheck

	if err := json.NewEncoder(os.Stdout).Encode(map[string]any{
		"cds": addr, "control": control.Addr().String(), "pid": os.Getpid(),
	}); err != nil {
		return err
	}

	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT)
	<-signals
	cds.stop()
	return nil
}

func resolvePort(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", err
	}
	if port != "0" {
		return addr, nil
	}
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", err
	}
	defer l.Close() //nolint:errcheck
	return l.Addr().String(), nil
}

// compile-time check that the upstream package still has the shape this harness relies on
var _ cdsserver.ConfigNodePatcher = nodePatcher(nil, logr.Discard())
