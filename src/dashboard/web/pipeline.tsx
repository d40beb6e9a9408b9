export function PipelinePage() {
  return <p>pipeline</p>;
}
