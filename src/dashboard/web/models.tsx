import type { Session } from './api';
import type { Route } from './router';
export function ModelsPage() {
  return <p>models</p>;
}
export function ModelPage({ name }: { name: string; session: Session; route: Route }) {
  return <p>{name}</p>;
}
