package main

import (
	"github.com/go-logr/logr"
	stnrv1 "github.com/l7mp/stunner/pkg/apis/v1"
	cdsserver "github.com/l7mp/stunner/pkg/config/server"
)

// nodeAddressPlaceholder is the listener address the operator renders when a Gateway asks for the
// node's external address; its CDS server replaces it per client from the client's node=<name>.
const nodeAddressPlaceholder = "__node_address_placeholder"

// nodePatcher does what the operator's patcher does, with node addresses from the command line
// instead of the Kubernetes Node objects: a listener whose address is the placeholder gets the
// node's address, or "$STUNNER_ADDR" (expanded by stunnerd from its environment) when the node
// is unknown. The server calls it only for clients that sent a node name.
func nodePatcher(nodes nodeAddresses, log logr.Logger) cdsserver.ConfigNodePatcher {
	return func(conf *stnrv1.StunnerConfig, node string) *stnrv1.StunnerConfig {
		if conf == nil {
			return conf
		}
		addr, known := nodes[node]
		for i := range conf.Listeners {
			if conf.Listeners[i].Addr != nodeAddressPlaceholder {
				continue
			}
			if known {
				conf.Listeners[i].Addr = addr
			} else {
				conf.Listeners[i].Addr = "$" + stnrv1.DefaultEnvVarAddr
			}
			log.V(2).Info("patched listener address", "config-id", conf.Admin.Name, "node", node,
				"listener", conf.Listeners[i].Name, "address", conf.Listeners[i].Addr)
		}
		return conf
	}
}
