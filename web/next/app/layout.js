import './globals.css';

export const metadata = {
  title: 'playalike · Next.js example',
  description: 'Game recommendations computed in the browser with the playalike package.',
  icons: { icon: 'data:,' },
};

export default function RootLayout({ children }) {
  return (
    <html lang="en">
      <body>{children}</body>
    </html>
  );
}
