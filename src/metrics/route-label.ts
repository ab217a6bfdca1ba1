/** The `route` label of a counted request: the pattern Hono matched, never the raw path. */

/**
 * The pattern of the handler that answered: the last matched route that is not a middleware
 * (those are registered for every method); `unmatched` when only middleware matched (a 404).
 */
export function routeLabel(routes: readonly { method: string; path: string }[]): string {
  const handler = routes.findLast((route) => route.method !== 'ALL');
  return handler?.path ?? 'unmatched';
}
