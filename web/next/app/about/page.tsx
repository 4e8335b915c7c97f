// A second route: navigating here unmounts the recommender, which frees the model's wasm memory
// (app/useRecommender.ts); navigating back loads it again, from the browser's cache.
import Link from 'next/link';

export default function About() {
  return (
    <main>
      <h1 data-testid="about">About this example</h1>
      <p>
        The model is loaded in the browser by the <code>playalike</code> package and queried there: search,
        recommendations and explanations need no server. Leaving the page frees the memory the engine holds.
      </p>
      <p>
        <Link href="/">Back to the recommender</Link>
      </p>
    </main>
  );
}
