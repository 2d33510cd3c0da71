/**
 * The API reference: Swagger UI (served by the gateway from swagger-ui-dist) rendering
 * /openapi.yaml. "Try it out" on an admin operation goes to this listener whatever server
 * the document names, with the console's admin token.
 */

interface SwaggerRequest {
  url: string;
  headers: Record<string, string>;
}

declare const SwaggerUIBundle: ((options: Record<string, unknown>) => unknown) & {
  presets: { apis: unknown };
};

const TOKEN_KEY = "zmq-gateway.admin-token";

function toThisListener(request: SwaggerRequest): SwaggerRequest {
  const url = new URL(request.url, location.href);
  if (url.pathname.startsWith("/admin/") && url.origin !== location.origin)
    request.url = `${location.origin}${url.pathname}${url.search}`;
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token && new URL(request.url, location.href).origin === location.origin)
    request.headers.Authorization = `Bearer ${token}`;
  return request;
}

SwaggerUIBundle({
  url: "/openapi.yaml",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  validatorUrl: null,
  requestInterceptor: toThisListener,
});
