package inventory

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/meshfed/meshfed/krm"
	"k8s.io/apimachinery/pkg/util/validation"
)

// Port values are validated where they are read, with the rules the API
// server applies (kubernetes/kubernetes pkg/apis/core/validation,
// ValidateService and validateContainerPorts: port numbers 1-65535, Service
// port names DNS-1123 labels and unique, container port names IANA service
// names, a targetPort a number 1-65535 or a container port's name), so that
// a manifest no cluster would accept is named with its field, never turned
// into a wrapped-around number or a "meshfed bug" later.

// validatePorts checks a Service's ports.
func (s *Service) validatePorts() []krm.FieldError {
	var errs []krm.FieldError
	add := func(i int, field, msg string) {
		errs = append(errs, krm.FieldError{Path: fmt.Sprintf("spec.ports[%d]%s", i, field), Message: msg})
	}
	names := map[string]int{}
	numbers := map[string]int{}
	for i, p := range s.Ports {
		if p.Number < 1 || p.Number > 65535 {
			add(i, ".port", portMessage(p.Number))
		}
		key := strconv.Itoa(int(p.Number)) + "/" + strings.ToUpper(orTCP(p.Transport))
		if j, dup := numbers[key]; dup {
			add(i, ".port", fmt.Sprintf("port %s is listed twice (also spec.ports[%d]): remove one", key, j))
		} else {
			numbers[key] = i
		}
		switch {
		case p.Name == "" && len(s.Ports) > 1:
			add(i, ".name", "is required when a Service has several ports: name each port, e.g. `http`")
		case p.Name != "":
			if errs := validation.IsDNS1123Label(p.Name); errs != nil {
				add(i, ".name", fmt.Sprintf("%q is not a valid port name: use lowercase letters, digits and '-', at most 63 characters, e.g. `http`", p.Name))
			}
			if j, dup := names[p.Name]; dup {
				add(i, ".name", fmt.Sprintf("port name %q is used twice (also spec.ports[%d]): rename one", p.Name, j))
			} else {
				names[p.Name] = i
			}
		}
		switch {
		case p.TargetName == "" && p.TargetNumber != 0 && (p.TargetNumber < 1 || p.TargetNumber > 65535):
			add(i, ".targetPort", fmt.Sprintf("%d is not a port number: use 1-65535, or the name of a container port", p.TargetNumber))
		case p.TargetName != "" && strings.Trim(p.TargetName, "+-0123456789") == "":
			// A number written as a string: accepted as the number it is,
			// when it is one.
			if n, err := strconv.ParseInt(p.TargetName, 10, 32); err != nil || n < 1 || n > 65535 {
				add(i, ".targetPort", fmt.Sprintf("%q is not a port number: use 1-65535 (without quotes), or the name of a container port", p.TargetName))
			}
		case p.TargetName != "":
			if errs := validation.IsValidPortName(p.TargetName); errs != nil {
				add(i, ".targetPort", fmt.Sprintf("%q is not a container port name (%s): use the name of a container port of the pods behind the Service, or a number", p.TargetName, strings.Join(errs, "; ")))
			}
		}
	}
	return errs
}

func orTCP(transport string) string {
	if transport == "" {
		return "TCP"
	}
	return transport
}

func portMessage(n int32) string {
	if n == 0 {
		return "is missing or 0: give the port number, 1-65535"
	}
	return fmt.Sprintf("%d is not a port number: use 1-65535", n)
}

// validateContainerPort checks one named container port; path (written
// only for a problem: a fleet has thousands of container ports) is where
// it is.
func validateContainerPort(path func() string, p ContainerPort) []krm.FieldError {
	var errs []krm.FieldError
	if p.Number < 1 || p.Number > 65535 {
		errs = append(errs, krm.FieldError{Path: path() + ".containerPort", Message: portMessage(p.Number)})
	}
	if v := validation.IsValidPortName(p.Name); v != nil {
		errs = append(errs, krm.FieldError{Path: path() + ".name", Message: fmt.Sprintf("%q is not a valid container port name (%s): e.g. `http`", p.Name, strings.Join(v, "; "))})
	}
	return errs
}
