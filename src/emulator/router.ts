// A small router: `METHOD + path pattern -> handler`. Patterns are literal segments, `:name` for one
// segment and a trailing `*name` for the rest of the path (the Files API and workspace-files put whole
// paths in the URL). Route modules add their routes; the pipeline asks for a match.

import type { Handler } from "./http.ts";

export interface RouteMatch {
  handler: Handler;
  params: Record<string, string>;
}

interface Route {
  method: string;
  pattern: string;
  regex: RegExp;
  names: string[];
  handler: Handler;
}

function compile(pattern: string): { regex: RegExp; names: string[] } {
  if (!pattern.startsWith("/")) throw new Error(`route pattern must start with '/': ${pattern}`);
  const names: string[] = [];
  const segments = pattern.split("/").slice(1);
  const parts = segments.map((seg, i) => {
    if (seg.startsWith(":")) {
      names.push(seg.slice(1));
      return "([^/]+)";
    }
    if (seg.startsWith("*")) {
      if (i !== segments.length - 1) throw new Error(`'*' only at the end of a pattern: ${pattern}`);
      names.push(seg.slice(1));
      return "(.*)";
    }
    return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return { regex: new RegExp(`^/${parts.join("/")}$`), names };
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

export class Router {
  #routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): this {
    const { regex, names } = compile(pattern);
    const m = method.toUpperCase();
    if (this.#routes.some((r) => r.method === m && r.pattern === pattern)) {
      throw new Error(`duplicate route ${m} ${pattern}`);
    }
    this.#routes.push({ method: m, pattern, regex, names, handler });
    return this;
  }

  get(pattern: string, handler: Handler): this {
    return this.add("GET", pattern, handler);
  }

  post(pattern: string, handler: Handler): this {
    return this.add("POST", pattern, handler);
  }

  /**
   * The route for this method and path. A path that exists only under another method is a miss too:
   * Databricks answers both the same way (ENDPOINT_NOT_FOUND).
   */
  match(method: string, path: string): RouteMatch | undefined {
    const m = method.toUpperCase();
    for (const r of this.#routes) {
      if (r.method !== m && !(m === "HEAD" && r.method === "GET")) continue;
      const found = r.regex.exec(path);
      if (!found) continue;
      const params: Record<string, string> = {};
      r.names.forEach((name, i) => (params[name] = decode(found[i + 1])));
      return { handler: r.handler, params };
    }
    return undefined;
  }

  /** `METHOD pattern` of every route, for the README and the health endpoint. */
  list(): string[] {
    return this.#routes.map((r) => `${r.method} ${r.pattern}`);
  }
}
