// Error answers in the exact body shapes that Databricks sends (docs/databricks-behaviour.md §1.1), so that
// the CLI's error mapping is tested against what it will meet for real. Handlers throw EmulatorHttpError; the
// pipeline in emulator.ts turns it into the response.

import { jsonResponse } from "./http.ts";

export class EmulatorHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(
      typeof body === "object" && body !== null && "message" in body
        ? String(body.message)
        : `HTTP ${status}`,
    );
    this.name = "EmulatorHttpError";
  }

  toResponse(): Response {
    return jsonResponse(this.status, this.body, this.headers);
  }
}

/** `ErrorInfo` detail that the cluster manager attaches to caller errors (seen on clusters/create, start). */
export const CM_CALLER_ERROR_DETAILS = [
  {
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: "CM_API_ERROR_SOURCE_CALLER_ERROR",
    domain: "",
  },
];

/** The 2.x shape `{"error_code", "message"[, "details"]}`. */
export function apiError(
  status: number,
  errorCode: string | number,
  message: string,
  extra: { details?: unknown[]; headers?: Record<string, string> } = {},
): EmulatorHttpError {
  const body: Record<string, unknown> = { error_code: errorCode, message };
  if (extra.details) body.details = extra.details;
  return new EmulatorHttpError(status, body, extra.headers);
}

export const invalidParameter = (message: string, details?: unknown[]) =>
  apiError(400, "INVALID_PARAMETER_VALUE", message, { details });

export const invalidState = (message: string, details?: unknown[]) =>
  apiError(400, "INVALID_STATE", message, { details });

export const missingField = (field: string) =>
  invalidParameter(`Missing required field '${field}'`, CM_CALLER_ERROR_DETAILS);

export const malformedRequest = (message: string) => apiError(400, "MALFORMED_REQUEST", message);

/** What the workspace answers for a path or method that no API serves. */
export const endpointNotFound = (method: string, path: string) =>
  apiError(404, "ENDPOINT_NOT_FOUND", `No API found for '${method} ${path.replace(/^\/api\/\d+\.\d+/, "")}'`);

/** The API 1.2 (command execution) shape: only `{"error": "..."}`, no code. */
export const error12 = (status: number, message: string) => new EmulatorHttpError(status, { error: message });

/** The SCIM shape; the SDKs build their message from scimType + detail and the code from status. */
export function scimError(status: number, detail: string, scimType?: string): EmulatorHttpError {
  const body: Record<string, unknown> = {
    schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
    detail,
    status: String(status),
  };
  if (scimType) body.scimType = scimType;
  return new EmulatorHttpError(status, body);
}

/** OAuth token endpoint errors (RFC 6749 §5.2). */
export const oauthError = (status: number, error: string, description: string) =>
  new EmulatorHttpError(status, { error, error_description: description });

/**
 * Authentication failures. Real workspaces send the HTTP status as a *number* in `error_code` here
 * (`{"error_code": 403, "message": "Invalid access token."}`, databricks-sdk-go#873), plus the message
 * in an `X-Databricks-Reason-Phrase` header; clients must not assume error_code is a string.
 */
export const authError = (status: 401 | 403, message: string) =>
  apiError(status, status, message, { headers: { "x-databricks-reason-phrase": message } });

const REASONS: Record<number, [string, string]> = {
  400: ["BAD_REQUEST", "Bad Request"],
  401: ["UNAUTHENTICATED", "Unauthorized"],
  403: ["PERMISSION_DENIED", "Forbidden"],
  404: ["NOT_FOUND", "Not Found"],
  409: ["RESOURCE_CONFLICT", "Conflict"],
  429: ["REQUEST_LIMIT_EXCEEDED", "Too Many Requests"],
  500: ["INTERNAL_ERROR", "Internal Server Error"],
  501: ["NOT_IMPLEMENTED", "Not Implemented"],
  502: ["BAD_GATEWAY", "Bad Gateway"],
  503: ["TEMPORARILY_UNAVAILABLE", "Service Unavailable"],
  504: ["DEADLINE_EXCEEDED", "Gateway Timeout"],
};

/** The error code and reason phrase that Databricks pairs with an HTTP status (for injected faults). */
export function reasonFor(status: number): { code: string; phrase: string } {
  const r = REASONS[status];
  if (r) return { code: r[0], phrase: r[1] };
  return { code: status >= 500 ? "INTERNAL_ERROR" : "BAD_REQUEST", phrase: `HTTP ${status}` };
}
