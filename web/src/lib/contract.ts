// The dashboard's side of the REST contract. Every type here comes from http/openapi.yaml:
// `npm run gen:api` (run before build, test and dev) writes src/lib/api-schema.ts with
// openapi-typescript, and apiRequest() binds the one Axios instance (src/lib/api.ts, with its
// refresh-on-401) to it: the path must be one of the document's, the method one it lists, the
// path parameters, query and body what the operation takes, and the result the operation's
// success body. A contract change the dashboard does not follow fails `tsc`.
import type { paths } from './api-schema';
import { api } from './api';

export type { components, paths } from './api-schema';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
export type ApiPath = keyof paths;
/** The methods the document lists for a path. */
export type MethodOf<P extends ApiPath> = {
  [M in Method]: [NonNullable<paths[P][M]>] extends [never] ? never : M;
}[Method];
export type Operation<P extends ApiPath, M extends MethodOf<P>> = NonNullable<paths[P][M]>;

type JsonOf<R> = R extends { content: { 'application/json': infer T } } ? T : undefined;
type SuccessCode = 200 | 201 | 204 | 205;
/** The body of an operation's 2xx answer (undefined for 204/205). */
export type Success<O> = O extends { responses: infer R }
  ? { [K in keyof R & SuccessCode]: JsonOf<R[K]> }[keyof R & SuccessCode]
  : never;
type BodyOf<O> = O extends { requestBody?: infer RB }
  ? RB extends { content: { 'application/json': infer B } }
    ? B
    : undefined
  : undefined;
type PathOf<O> = O extends { parameters: { path: infer PP } } ? ([PP] extends [undefined] ? undefined : PP) : undefined;
type QueryOf<O> = O extends { parameters: { query?: infer Q } } ? ([Q] extends [undefined] ? undefined : Q) : undefined;

export type RequestOptions<O> = {
  params?: PathOf<O>;
  query?: QueryOf<O>;
  body?: BodyOf<O>;
};

/** The document's path with its parameters filled in, relative to the Axios baseURL (/api). */
export function apiUrl(path: string, params?: Record<string, string | number>): string {
  return path.replace(/^\/api(?=\/)/, '').replace(/\{([^}]+)\}/g, (_, name: string) => {
    const v = params?.[name];
    if (v === undefined) throw new Error(`missing path parameter ${name} for ${path}`);
    return encodeURIComponent(String(v));
  });
}

/** One call of the REST API, typed by the contract. */
export async function apiRequest<P extends ApiPath, M extends MethodOf<P>>(
  method: M,
  path: P,
  options: RequestOptions<Operation<P, M>> = {},
): Promise<Success<Operation<P, M>>> {
  const res = await api.request({
    method,
    url: apiUrl(path, options.params as Record<string, string> | undefined),
    params: options.query,
    data: options.body,
  });
  return res.data as Success<Operation<P, M>>;
}
