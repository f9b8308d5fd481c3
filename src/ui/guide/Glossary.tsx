/**
 * Terms defined where they first appear: a dotted word that opens one plain sentence. The guide
 * uses words the paper defines late (excluded loss needs K), so each gets its sentence up front.
 */
import { useId, useState, type ReactNode } from 'react';

export const GLOSSARY = {
  'ℤ_P': 'The numbers 0, 1, …, P − 1 with addition that wraps around at P, like a clock: the task is addition in ℤ_P.',
  K: 'The key frequencies: the few Fourier frequencies k (rotations by w_k = 2πk/P) that the trained model computes with; a rule finds them from the run (section 3), or you pin them by hand.',
  'excluded loss': 'The training loss after the key frequencies K are removed from the logits: it stays low only while the model answers without the Fourier circuit, i.e. by memorizing.',
  'restricted loss': 'The test loss when only the key frequencies K are kept in the logits: it is low once the circuit alone can do the task.',
  W_L: 'W_L = W_out · W_U: the map from the MLP neurons straight to the output logits.',
  Gini: 'The Gini coefficient: 0 when all numbers are equal, near 1 when a few hold almost everything; here, how concentrated a Fourier spectrum is on a few frequencies.',
  FVE: 'Fraction of variance explained: the share of a neuron’s activation pattern that one frequency’s terms account for (1 means all of it).',
} as const;

export type GlossaryTerm = keyof typeof GLOSSARY;

/** A term as the paper typesets it: "ℤ_P" with P as a subscript, not an underscore. */
function TermText({ term }: { term: string }) {
  const m = /^ℤ_(\w+)$/.exec(term);
  return m ? (
    <>
      ℤ<sub>{m[1]}</sub>
    </>
  ) : (
    <>{term}</>
  );
}

export function Term({ term, children }: { term: GlossaryTerm; children?: ReactNode }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <span className="term">
      <button
        type="button"
        className="term-word"
        aria-expanded={open}
        aria-controls={id}
        data-testid={`term-${term}`}
        onClick={() => setOpen(!open)}
        onKeyDown={(e) => {
          if (e.key === 'Escape') setOpen(false);
        }}
        onBlur={() => setOpen(false)}
      >
        {children ?? <TermText term={term} />}
      </button>
      {open && (
        <span className="term-popover" role="note" id={id} data-testid="term-definition">
          {GLOSSARY[term]}
        </span>
      )}
    </span>
  );
}
