package pipeline

import (
	"fmt"

	"github.com/meshfed/meshfed/functions/meshfed/api/v1alpha1"
	"github.com/meshfed/meshfed/functions/meshfed/protocol"
	"github.com/meshfed/meshfed/functions/meshfed/render"
)

// uniqueNames hands out object names derived from hostnames, unique per
// namespace. Hosts are visited in sorted order, so the result is
// deterministic; a host whose derived name is taken gets a hashed name.
type uniqueNames map[[2]string]string

func (u uniqueNames) get(namespace, host string) string {
	name := render.Name(host)
	if owner, taken := u[[2]string{namespace, name}]; taken && owner != host {
		name = render.HashedName(host)
	}
	u[[2]string{namespace, name}] = host
	return name
}

func canonicalProtocol(p string) (string, bool) {
	if p == "" {
		return "", false
	}
	return protocol.Parse(p)
}

// portName names a port the Service left unnamed; ServiceEntry ports need
// a name, and istiod reads the protocol from the protocol field, not it.
func portName(p v1alpha1.Port) string {
	return fmt.Sprintf("port-%d", p.Number)
}
