/** The page: header, messages, controls on the left, live charts on the right. */
import { ConfigForm } from './ConfigForm.tsx';
import { Header } from './Header.tsx';
import { LiveControls } from './LiveControls.tsx';
import { Notices } from './Notices.tsx';
import { RunControls } from './RunControls.tsx';
import { AccuracyChart, LossChart } from './charts/TrainingCurves.tsx';

export function App() {
  return (
    <div className="app">
      <Header />
      <Notices />
      <main className="layout">
        <aside className="sidebar">
          <RunControls />
          <LiveControls />
          <ConfigForm />
        </aside>
        <div className="content">
          <section className="panel charts" aria-label="Training curves">
            <LossChart />
            <AccuracyChart />
          </section>
        </div>
      </main>
      <footer className="footer muted">
        Reproduces “Progress measures for grokking via mechanistic interpretability” (Nanda, Chan, Lieberum, Smith, Steinhardt, ICLR 2023)
        in your browser with TensorFlow.js.
      </footer>
    </div>
  );
}
