// The REST API, with the API key from session storage. Errors are RFC 9457 problems.

export class ApiError extends Error {
  constructor(status, problem) {
    const body = problem && typeof problem === "object" ? problem : {};
    super(body.detail || `HTTP ${status}`);
    this.status = status;
    this.reason = body.reason || `HTTP_${status}`;
    this.field = body.field || null;
    this.detail = body.detail || `the server answered ${status}`;
    // Every failure the API names ({reason, field, detail}), the first one included.
    this.failures =
      Array.isArray(body.errors) && body.errors.length
        ? body.errors
        : [{ reason: this.reason, field: this.field, detail: this.detail }];
  }
}

export class Api {
  constructor(key) {
    this.key = key;
  }

  async call(method, path, { body, query } = {}) {
    const url = new URL(path, window.location.origin);
    for (const [name, value] of Object.entries(query || {})) {
      for (const item of [value].flat()) {
        if (item != null && item !== "") url.searchParams.append(name, item);
      }
    }
    const headers = { "X-API-Key": this.key, Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: "no-store",
    });
    const text = await response.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = { detail: text.slice(0, 200) };
      }
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  get(path, query) {
    return this.call("GET", path, { query });
  }

  post(path, body) {
    return this.call("POST", path, { body });
  }

  patch(path, body) {
    return this.call("PATCH", path, { body });
  }

  delete(path, query) {
    return this.call("DELETE", path, { query });
  }

  /** Every page of a cursor-paged list (bounded), items in order. */
  async all(path, query, maxPages = 10) {
    const items = [];
    let cursor = null;
    for (let page = 0; page < maxPages; page += 1) {
      const data = await this.get(path, { ...query, cursor });
      items.push(...data.items);
      cursor = data.next_cursor;
      if (!cursor) break;
    }
    return items;
  }
}

/** The public OpenAPI document (no key needed): what this API takes and offers. */
export async function loadSchema() {
  const response = await fetch("/api/openapi.json", { cache: "no-store" });
  if (!response.ok) throw new ApiError(response.status, null);
  return new Schema(await response.json());
}

export class Schema {
  constructor(doc) {
    this.doc = doc;
  }

  /** Whether the API has `method` on `path` (e.g. "get", "/api/account"). */
  has(method, path) {
    return Boolean(this.doc.paths?.[path]?.[method]);
  }

  resolve(schema) {
    let s = schema || {};
    for (let i = 0; i < 8 && s.$ref; i += 1) {
      const name = s.$ref.split("/").pop();
      s = this.doc.components?.schemas?.[name] || {};
    }
    return s;
  }

  /** A property's schema without the `| null` wrapper. */
  property(schema, name) {
    const raw = this.resolve(schema).properties?.[name] || {};
    const prop = this.resolve(raw);
    // A default beside a $ref (order_class: simple) is the property's, not the enum's.
    const fallback = raw.default !== undefined ? raw.default : prop.default;
    const options = prop.anyOf || prop.oneOf;
    if (options) {
      const real = options.map((o) => this.resolve(o)).filter((o) => o.type !== "null");
      if (real.length === 1) return { ...real[0], default: fallback };
    }
    return fallback === undefined ? prop : { ...prop, default: fallback };
  }

  /** The enum values a property takes, or null. */
  enumOf(modelName, property) {
    const prop = this.property(this.component(modelName), property);
    return Array.isArray(prop.enum) ? prop.enum : null;
  }

  component(name) {
    return this.doc.components?.schemas?.[name] || {};
  }

  /** The named schema's enum (e.g. "OrderStatus"), or null. */
  enumNamed(name) {
    const values = this.component(name).enum;
    return Array.isArray(values) ? values : null;
  }
}
