export function PredictPage() {
  return <p>predict</p>;
}
