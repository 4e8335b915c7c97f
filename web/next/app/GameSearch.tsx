'use client';
// The search box as a WAI-ARIA 1.2 combobox with a listbox popup: the input has role=combobox,
// aria-expanded, aria-controls (the listbox) and aria-activedescendant (the highlighted option);
// ↓/↑ move through the suggestions, Enter picks, Escape closes the list (and clears the text
// when it is already closed). Focus stays in the input throughout.
import { useId, useState, type KeyboardEvent } from 'react';
import type { Hit, Recommender } from '../playalike/index.js';

const SUGGESTIONS = 8;

interface Props {
  rec: Recommender;
  /** The visitor picked `hit`, the `position`-th suggestion (0 = first). */
  onPick: (hit: Hit, position: number) => void;
}

export default function GameSearch({ rec, onPick }: Props) {
  const [text, setText] = useState('');
  const [hits, setHits] = useState<Hit[]>([]);
  const [open, setOpen] = useState(false);
  const [active, setActive] = useState(-1);
  const id = useId();
  const inputId = 'q';
  const listId = `${id}-listbox`;
  const optionId = (i: number) => `${id}-option-${i}`;

  const update = (value: string) => {
    setText(value);
    const query = value.trim();
    const found = query ? rec.search(query, { k: SUGGESTIONS }) : [];
    setHits(found);
    setOpen(found.length > 0);
    setActive(-1);
  };

  const close = () => {
    setOpen(false);
    setActive(-1);
  };

  const pick = (i: number) => {
    const hit = hits[i];
    if (!hit) return;
    close();
    setText('');
    setHits([]);
    onPick(hit, i);
  };

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    const n = hits.length;
    switch (e.key) {
      case 'ArrowDown':
        if (n === 0) return;
        e.preventDefault();
        if (!open) {
          setOpen(true);
          setActive(0);
        } else {
          setActive((active + 1) % n);
        }
        return;
      case 'ArrowUp':
        if (!open || n === 0) return;
        e.preventDefault();
        setActive(active <= 0 ? n - 1 : active - 1);
        return;
      case 'Enter':
        if (!open || n === 0) return;
        e.preventDefault();
        pick(Math.max(active, 0));
        return;
      case 'Escape':
        e.preventDefault();
        if (open) close();
        else update('');
        return;
      default:
        return;
    }
  };

  const count = !text.trim() ? '' : hits.length === 0 ? 'No matching game' : `${hits.length} suggestions`;
  return (
    <div className="combobox">
      <label htmlFor={inputId} id={`${id}-label`}>
        Find a game
      </label>
      <input
        id={inputId}
        type="text"
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={open}
        aria-controls={listId}
        aria-activedescendant={open && active >= 0 ? optionId(active) : undefined}
        aria-describedby={`${id}-hint`}
        autoComplete="off"
        spellCheck={false}
        value={text}
        onChange={(e) => update(e.target.value)}
        onKeyDown={onKeyDown}
        onBlur={close}
      />
      <p id={`${id}-hint`} className="hint">
        Type a title, use ↑ ↓ to choose and Enter to pick.
      </p>
      <ul id={listId} role="listbox" aria-labelledby={`${id}-label`} className="suggestions" hidden={!open}>
        {hits.map((hit, i) => (
          <li
            key={hit.id}
            id={optionId(i)}
            role="option"
            aria-selected={i === active}
            data-id={hit.id}
            // Keep the focus in the input when an option is clicked.
            onMouseDown={(e) => e.preventDefault()}
            onClick={() => pick(i)}
          >
            {hit.name}
            {hit.year !== null && <span className="year"> ({hit.year})</span>}
          </li>
        ))}
      </ul>
      <p className="visually-hidden" aria-live="polite">
        {count}
      </p>
    </div>
  );
}
