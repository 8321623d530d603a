package wug

import "context"

// ProductService reads product and API information.
type ProductService struct{ c *Client }

// Version returns WUG's product version details
// (GET /api/v1/product/version).
func (s *ProductService) Version(ctx context.Context) (*ProductInfo, error) {
	var p ProductInfo
	if err := s.c.do(ctx, request{method: "GET", path: "/product/version"}, &p, nil); err != nil {
		return nil, opErr("Product.Version", err)
	}
	return &p, nil
}

// API returns the REST API's version and information
// (GET /api/v1/product/api).
func (s *ProductService) API(ctx context.Context) (*ProductInfo, error) {
	var p ProductInfo
	if err := s.c.do(ctx, request{method: "GET", path: "/product/api"}, &p, nil); err != nil {
		return nil, opErr("Product.API", err)
	}
	return &p, nil
}

// WhoAmI returns the name of the user the client is logged in as
// (GET /api/v1/product/whoAmI).
func (s *ProductService) WhoAmI(ctx context.Context) (string, error) {
	var name string
	if err := s.c.do(ctx, request{method: "GET", path: "/product/whoAmI"}, &name, nil); err != nil {
		return "", opErr("Product.WhoAmI", err)
	}
	return name, nil
}
