import type { Route } from './router';
export function ComparePage({ route }: { route: Route }) {
  return <p>{route.query.get('ids')}</p>;
}
