// Package protocol maps Kubernetes Service ports to Istio protocol names the
// way istiod does (appProtocol first, then the port-name prefix), so that the
// generated ServiceEntries behave like the Services they stand for.
package protocol

import "strings"

// Canonical Istio protocol names, as ServiceEntry ports accept them.
const (
	HTTP      = "HTTP"
	HTTPS     = "HTTPS"
	HTTP2     = "HTTP2"
	GRPC      = "GRPC"
	GRPCWeb   = "GRPC-Web"
	HTTPProxy = "HTTP_PROXY"
	TCP       = "TCP"
	TLS       = "TLS"
	UDP       = "UDP"
	Mongo     = "Mongo"
	Redis     = "Redis"
	MySQL     = "MySQL"
	// Unknown means istiod would sniff the protocol; the generated port then
	// carries no protocol, which keeps that behaviour.
	Unknown = ""
)

var byLowerName = map[string]string{
	"http": HTTP, "https": HTTPS, "http2": HTTP2, "grpc": GRPC, "grpc-web": GRPCWeb,
	"http_proxy": HTTPProxy, "tcp": TCP, "tls": TLS, "udp": UDP, "mongo": Mongo,
	"redis": Redis, "mysql": MySQL,
}

// Parse returns the canonical name of an Istio protocol, case-insensitively,
// and whether it is one.
func Parse(s string) (string, bool) {
	p, ok := byLowerName[strings.ToLower(s)]
	return p, ok
}

// Known lists the accepted protocol names, for error messages.
func Known() string {
	return "HTTP, HTTPS, HTTP2, GRPC, GRPC-Web, HTTP_PROXY, TCP, TLS, UDP, Mongo, Redis, MySQL"
}

// wellKnownTCPPorts are ports istiod treats as TCP when nothing else says,
// because sniffing would break their server-first protocols.
var wellKnownTCPPorts = map[int32]bool{25: true, 53: true, 3306: true, 27017: true}

// FromServicePort derives the Istio protocol of a Kubernetes Service port
// from its transport protocol, appProtocol and name, with istiod's rules.
func FromServicePort(number int32, name, transport, appProtocol string) string {
	if strings.EqualFold(transport, "UDP") {
		return UDP
	}
	hint := name
	if appProtocol != "" {
		hint = appProtocol
		switch appProtocol {
		case "kubernetes.io/h2c":
			return HTTP2
		case "kubernetes.io/ws":
			return HTTP
		case "kubernetes.io/wss":
			return HTTPS
		}
	}
	if len(hint) >= len("grpc-web") && strings.EqualFold(hint[:len("grpc-web")], "grpc-web") {
		return GRPCWeb
	}
	if i := strings.IndexByte(hint, '-'); i >= 0 {
		hint = hint[:i]
	}
	if p, ok := Parse(hint); ok && p != UDP {
		return p
	}
	if wellKnownTCPPorts[number] {
		return TCP
	}
	return Unknown
}
