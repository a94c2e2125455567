// containers-policy stands in for `skopeo copy --policy POLICY --registries.d DIR SRC DEST` in sigil's peer tests:
// the Go module proxy refuses every github.com/containers/skopeo version (403 "not available") and Debian's skopeo
// is built with sigstore disabled. It is a thin command over containers/image (go.podman.io/image/v5), the library
// skopeo, podman and CRI-O use: the policy file is parsed, and every signature is fetched (use-sigstore-attachments
// in registries.d) and verified, by containers/image's own signature and copy packages, exactly as skopeo copy
// does; nothing here checks a signature itself.
//
//	containers-policy --policy policy.json --registries.d DIR [--authfile FILE] [--tls-verify=false]
//	                  [--registries-conf FILE] [--remove-signatures] docker://HOST/REPO@DIGEST dir:/out
//
// (oci:/out:tag as DEST needs --remove-signatures, as with skopeo: the OCI layout cannot store signatures.)
//
// Exit 0 when the copy (with its policy check) succeeds; otherwise the error is printed and the exit code is 1.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"

	"go.podman.io/image/v5/copy"
	_ "go.podman.io/image/v5/directory"  // registers dir:
	_ "go.podman.io/image/v5/docker"     // registers docker://
	_ "go.podman.io/image/v5/oci/layout" // registers oci:
	"go.podman.io/image/v5/signature"
	"go.podman.io/image/v5/transports"
	"go.podman.io/image/v5/types"
)

// parseImageName is alltransports.ParseImageName without importing every transport (storage, docker-daemon, …).
func parseImageName(name string) (types.ImageReference, error) {
	prefix, rest, ok := strings.Cut(name, ":")
	if !ok {
		return nil, fmt.Errorf("invalid image name %q, expected TRANSPORT:NAME", name)
	}
	t := transports.Get(prefix)
	if t == nil {
		return nil, fmt.Errorf("invalid image name %q, unknown transport %q", name, prefix)
	}
	return t.ParseReference(rest)
}

func run() error {
	policyPath := flag.String("policy", "", "containers-policy.json(5) file (required)")
	registriesD := flag.String("registries.d", "", "containers-registries.d(5) directory (use-sigstore-attachments)")
	authFile := flag.String("authfile", os.Getenv("REGISTRY_AUTH_FILE"), "containers-auth.json(5) / docker config.json")
	registriesConf := flag.String("registries-conf", "", "containers-registries.conf(5) file (default: the system's)")
	tlsVerify := flag.Bool("tls-verify", true, "require HTTPS and verify certificates; false also allows plain HTTP")
	removeSignatures := flag.Bool("remove-signatures", false, "do not copy signatures (still checks the policy)")
	flag.Parse()
	if *policyPath == "" || flag.NArg() != 2 {
		return fmt.Errorf("usage: containers-policy --policy FILE [--registries.d DIR] SRC DEST")
	}

	policy, err := signature.NewPolicyFromFile(*policyPath)
	if err != nil {
		return fmt.Errorf("reading policy: %w", err)
	}
	policyContext, err := signature.NewPolicyContext(policy)
	if err != nil {
		return fmt.Errorf("policy context: %w", err)
	}
	defer func() { _ = policyContext.Destroy() }()

	src, err := parseImageName(flag.Arg(0))
	if err != nil {
		return err
	}
	dest, err := parseImageName(flag.Arg(1))
	if err != nil {
		return err
	}
	sys := &types.SystemContext{
		RegistriesDirPath:        *registriesD,
		AuthFilePath:             *authFile,
		SystemRegistriesConfPath: *registriesConf,
	}
	// containers/image falls back from https to plain http only when TLS verification is off (docker_client.go).
	if !*tlsVerify {
		sys.DockerInsecureSkipTLSVerify = types.OptionalBoolTrue
	}
	_, err = copy.Image(context.Background(), policyContext, dest, src, &copy.Options{
		SourceCtx:        sys,
		DestinationCtx:   sys,
		ReportWriter:     os.Stderr,
		RemoveSignatures: *removeSignatures,
	})
	return err
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "containers-policy: %v\n", err)
		os.Exit(1)
	}
}
