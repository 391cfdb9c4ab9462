/**
 * The catalogue's routes as API Gateway (HTTP API) matches them: exact method,
 * `{param}` for one path segment, `$default` for everything else. The local
 * gateway routes with it; the `$default` function (health) uses it to tell a
 * wrong method on a known path (405, with the methods the path has) from an
 * unknown path (404). Pure: no node:http, so it can go into a Lambda bundle.
 */
import { routes, type FunctionName, type RouteSpec } from '../../infra/catalogue.js';

interface CompiledRoute {
  routeKey: string;
  method: string;
  pattern: RegExp;
  params: string[];
  fn: FunctionName;
}

export interface CompiledRoutes {
  routes: CompiledRoute[];
  fallback: FunctionName | undefined;
}

export function compileRoutes(specs: readonly RouteSpec[] = routes): CompiledRoutes {
  const compiled: CompiledRoute[] = [];
  let fallback: FunctionName | undefined;
  for (const route of specs) {
    if (route.routeKey === '$default') {
      fallback = route.function;
      continue;
    }
    const [method, path] = route.routeKey.split(' ') as [string, string];
    const params: string[] = [];
    const source = path.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
      params.push(name);
      return '([^/]+)';
    });
    compiled.push({ routeKey: route.routeKey, method, pattern: new RegExp(`^${source}$`), params, fn: route.function });
  }
  return { routes: compiled, fallback };
}

export function matchRoute(compiled: CompiledRoutes, method: string, path: string) {
  for (const route of compiled.routes) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(path);
    if (!m) continue;
    const pathParameters: Record<string, string> = {};
    route.params.forEach((name, i) => {
      try {
        pathParameters[name] = decodeURIComponent(m[i + 1]!);
      } catch {
        pathParameters[name] = m[i + 1]!;
      }
    });
    return { routeKey: route.routeKey, fn: route.fn, pathParameters };
  }
  return compiled.fallback ? { routeKey: '$default', fn: compiled.fallback, pathParameters: undefined } : undefined;
}

/** The methods the routes have for `path`, sorted (exactly the catalogue's: HEAD only where it is routed); empty for an unknown path. */
export function allowedMethods(compiled: CompiledRoutes, path: string): string[] {
  const methods = new Set(compiled.routes.filter((r) => r.pattern.test(path)).map((r) => r.method));
  return [...methods].sort();
}
