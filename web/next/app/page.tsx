// Server component: static shell only. Everything that touches the model runs in the client
// component, so no wasm is loaded during server rendering.
import Link from 'next/link';
import Playalike from './Playalike';

export default function Page() {
  return (
    <main>
      <h1>playalike</h1>
      <p className="tagline">Games that play alike: a Next.js example using the playalike package.</p>
      <Playalike />
      <footer>
        Data provided by <a href="https://www.igdb.com/">IGDB</a>. <Link href="/about">About this example</Link>
      </footer>
    </main>
  );
}
