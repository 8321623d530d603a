package wugtest

import (
	"net/http"
	"strings"
)

// Version facts the fake reports; it follows the 2026.0 contract.
const (
	ProductVersion = "2026.0.0"
	APIVersion     = "v1"
)

type nameValues struct {
	Values []nameValue `json:"values"`
}

// productVersion serves GET /product/version.
func (h *Handler) productVersion(c *call) {
	c.data(nameValues{[]nameValue{
		{Name: "ProductName", Value: "WhatsUp Gold"},
		{Name: "Version", Value: ProductVersion},
		{Name: "Edition", Value: "wugtest"},
	}})
}

// productAPI serves GET /product/api.
func (h *Handler) productAPI(c *call) {
	c.data(nameValues{[]nameValue{
		{Name: "ApiVersion", Value: APIVersion},
		{Name: "ContractVersion", Value: "2026.0"},
	}})
}

// whoAmI serves GET /product/whoAmI: the user name as a bare string.
func (h *Handler) whoAmI(c *call) { c.data(h.cfg.user) }

// installationID serves GET /product/installationId.
func (h *Handler) installationID(c *call) { c.data("00000000-0000-4000-8000-00000000f00d") }

// timezone serves GET /product/timezone in .NET TimeZoneInfo form.
func (h *Handler) timezone(c *call) {
	c.data("UTC;0;(UTC) Coordinated Universal Time;Coordinated Universal Time;;;")
}

// errorSample serves GET /errors/{errorType}, WUG's error-format test
// endpoint, which needs no token.
func (h *Handler) errorSample(c *call) {
	typ := c.params["errorType"]
	status := http.StatusBadRequest
	switch strings.ToLower(typ) {
	case "notfound":
		status = http.StatusNotFound
	case "unauthorized":
		status = http.StatusUnauthorized
	case "forbidden":
		status = http.StatusForbidden
	case "internal", "internalservererror":
		status = http.StatusInternalServerError
	}
	writeError(c.w, status, typ, "sample error of type "+typ)
}
