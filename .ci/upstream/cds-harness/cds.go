package main

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/go-logr/logr"
	stnrv1 "github.com/l7mp/stunner/pkg/apis/v1"
	cdsserver "github.com/l7mp/stunner/pkg/config/server"
)

// cds wraps upstream's server the way the operator drives it: the operator renders the whole set
// of dataplane configs on every change and hands that state of the world to UpdateConfig, which
// upserts what changed and deletes (sends a zero-config for) what disappeared. The harness keeps
// that set and does the same on every upsert or remove.
type cds struct {
	addr   string
	server *cdsserver.Server
	mu     sync.Mutex
	world  map[string]*stnrv1.StunnerConfig // id -> config, as last set through the control API
}

func newCDS(addr string, nodes nodeAddresses, log logr.Logger) *cds {
	return &cds{
		addr:   addr,
		server: cdsserver.New(addr, nodePatcher(nodes, log), log.WithName("cds-server")),
		world:  map[string]*stnrv1.StunnerConfig{},
	}
}

func (c *cds) start() error {
	// The server would also close itself when this context ends; stop closes it explicitly instead.
	return c.server.Start(context.Background())
}

func (c *cds) stop() { c.server.Close() }

// upsert sets the config of id (<namespace>/<name>) and pushes the new state of the world.
func (c *cds) upsert(id string, conf *stnrv1.StunnerConfig) error {
	if _, _, ok := cdsserver.NamespacedName(id); !ok {
		return fmt.Errorf("id must be <namespace>/<name>, got %q", id)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.world[id] = conf
	return c.pushWorld()
}

// remove drops the config of id; the server sends its watchers a zero-config. Reports whether
// there was one.
func (c *cds) remove(id string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.world[id]; !ok {
		return false, nil
	}
	delete(c.world, id)
	return true, c.pushWorld()
}

func (c *cds) pushWorld() error {
	configs := make([]cdsserver.Config, 0, len(c.world))
	for id, conf := range c.world {
		ns, name, _ := cdsserver.NamespacedName(id)
		configs = append(configs, cdsserver.Config{Namespace: ns, Name: name, Config: conf.DeepCopy()})
	}
	return c.server.UpdateConfig(configs)
}

// served lists what the server's own store holds (not the harness's copy), by id.
func (c *cds) served() map[string]*stnrv1.StunnerConfig {
	out := map[string]*stnrv1.StunnerConfig{}
	for _, conf := range c.server.GetConfigStore().Snapshot() {
		out[conf.Id()] = conf.Config
	}
	return out
}

// clients lists the watchers connected now, as "tcp:<ip>:<port>".
func (c *cds) clients() []string {
	ids := []string{}
	for _, conn := range c.server.GetConnTrack().Snapshot() {
		ids = append(ids, conn.Id())
	}
	sort.Strings(ids)
	return ids
}

// disconnect closes every watcher connection (as the server does on shutdown) but keeps serving,
// so the clients reconnect at once.
func (c *cds) disconnect() int {
	ids := c.clients()
	for _, id := range ids {
		c.server.RemoveClient(id)
	}
	return len(ids)
}

// pushNode re-sends every config to the watchers that gave node=<node>, as the operator does when
// a node's address changes.
func (c *cds) pushNode(node string) { c.server.PushNodeConfig(node) }
