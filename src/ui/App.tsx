/**
 * The page: controls on the left; on the right the explorable, in the paper's order — the task,
 * training curves and phases, progress measures, Fourier spectra, attention, neurons, logits —
 * each with a short guide that quotes the live run. A sticky scrubber moves every view in time.
 */
import type { ReactNode } from 'react';
import { useAppStore } from '../store/store.ts';
import { taskHas } from '../task/registry.ts';
import type { View } from '../task/spec.ts';
import { ConfigForm } from './controls/ConfigForm.tsx';
import { GuideCircuit, GuideCleanup, GuideMemorization, GuideTask } from './guide/Guide.tsx';
import { GuideBeyond } from './guide/Beyond.tsx';
import { Header } from './status/Header.tsx';
import { LiveControls } from './controls/LiveControls.tsx';
import { Notices } from './status/Notices.tsx';
import { RunControls } from './controls/RunControls.tsx';
import { RunsPanel } from './runs/RunsPanel.tsx';
import { SettingsDrawer } from './controls/SettingsDrawer.tsx';
import { SpeedPanel } from './status/SpeedPanel.tsx';
import { TimeBar } from './time/TimeBar.tsx';
import { Term } from './guide/Glossary.tsx';
import { FourierSpectra } from './charts/FourierSpectra.tsx';
import { AttentionMaps, ClusterWL, FveHistogram, LogitSpectrum, NeuronMaps, NeuronsByFrequency } from './charts/HeavyViews.tsx';
import { CoefficientsChart, InterferenceChart } from './charts/LogitCharts.tsx';
import { EvidenceSection } from './evidence/EvidenceSection.tsx';
import { InputAndInterventions } from './evidence/InputAndInterventions.tsx';
import { AccuracyChart, GiniChart, LossChart, NeuronCountChart, WeightNormChart } from './charts/ProgressCharts.tsx';
import { ClockPizzaChart, NormAccuracyChart, SoftmaxCollapseChart } from './charts/BeyondCharts.tsx';
import { LlcOverTraining } from './charts/LlcChart.tsx';
import { SweepSection } from './sweep/SweepSection.tsx';
import { SequenceSection } from './sequence/SequenceSection.tsx';
import { CircleFigure, ExcludedPerFreqChart } from './charts/MechanismCharts.tsx';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import { ComparePicker } from './runs/ComparePicker.tsx';

/** A section of the explorable, shown when the run's task has that view (the task registry says which). */
function Section({ id, title, figure, children }: { id: View; title: string; figure: string; children: ReactNode }) {
  const task = useAppStore((s) => (s.applied ?? s.draft).task);
  if (!taskHas(task, id)) return null;
  return (
    <section id={id} className="panel section" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>
        {title} <span className="figure-ref">{figure}</span>
      </h2>
      <ErrorBoundary what={title}>{children}</ErrorBoundary>
    </section>
  );
}

export function App() {
  return (
    <div className="app">
      <ErrorBoundary what="The header">
        <Header />
      </ErrorBoundary>
      <ErrorBoundary what="The notices">
        <Notices />
      </ErrorBoundary>
      <ErrorBoundary what="The time bar">
        <TimeBar />
      </ErrorBoundary>
      <main className="layout">
        <aside className="sidebar" aria-label="Controls">
          <ErrorBoundary what="The controls">
            <RunControls />
            <LiveControls />
          </ErrorBoundary>
          <SettingsDrawer>
            <ErrorBoundary what="The settings">
              <ConfigForm />
            </ErrorBoundary>
            <ErrorBoundary what="The Speed panel">
              <SpeedPanel />
            </ErrorBoundary>
            <ErrorBoundary what="The saved runs">
              <RunsPanel />
            </ErrorBoundary>
          </SettingsDrawer>
        </aside>
        <div className="content">
          {/* The main plot first, beside the controls (as TensorFlow Playground keeps them): the
              loss and accuracy with their phases are whole in a laptop's first screen; the guides follow. */}
          <Section id="training" title="Training curves and the three phases" figure="Fig. 2, 7, 13">
            <div className="first-charts">
              <LossChart />
              <AccuracyChart />
            </div>
            <ComparePicker />
            <ErrorBoundary what="The guide">
              <GuideTask />
            </ErrorBoundary>
            <GuideMemorization />
          </Section>
          <Section id="circle" title="The algorithm: addition as rotation" figure="Fig. 1">
            <GuideCircuit />
            <p className="explain">
              Your run's own embedding: at each key frequency w_k = 2πk/P, every token a projected on the plane of W_E's (cos w_k a, sin w_k a) directions, coloured by
              a. Once the circuit has formed the tokens sit on a circle at angle w_k·a, so adding a and b is composing two rotations (the dotted ray), and the readout
              cos(w_k(a + b − c)) is largest at c = (a + b) mod P (ringed). Scrub back in time to watch the circles form from a cloud.
            </p>
            <CircleFigure />
          </Section>
          <Section id="measures" title="Progress measures" figure="Fig. 7, 15">
            <div className="grid-2">
              <GiniChart />
              <WeightNormChart />
            </div>
            <NeuronCountChart />
            <p className="explain">
              Fig. 15: the excluded loss with one key frequency removed at a time. Each alone costs the training loss little while memorization carries it; as the
              circuit takes over, removing any one of them hurts, and removing all of K (black) hurts most.
            </p>
            <ExcludedPerFreqChart />
            <GuideBeyond />
            <div className="grid-2">
              <SoftmaxCollapseChart />
              <NormAccuracyChart />
            </div>
            <ClockPizzaChart />
            <LlcOverTraining />
          </Section>
          <Section id="fourier" title="Fourier spectra of the embedding and of W_L" figure="Fig. 3">
            <p className="explain">
              Project W_E and <Term term="W_L">W_L = W_out·W_U</Term> onto the Fourier basis of ℤ<sub>P</sub>: at initialization every frequency carries similar weight; as the circuit forms a few
              key frequencies stand out and the rest fade (cleanup). Bars in vermillion are the key frequencies K that the restricted and excluded losses use.
            </p>
            <FourierSpectra />
          </Section>
          <Section id="attention" title="Attention from '=' to a" figure="Fig. 4, 9">
            <p className="explain">
              Each head's attention from the '=' token to a, over all pairs (a, b). Once grokked, the pattern is periodic: a head attends by a function of a alone
              at its key frequency, mixing cos(w_k a) and cos(w_k b) terms into the residual stream.
            </p>
            <AttentionMaps />
          </Section>
          <Section id="neurons" title="MLP neurons" figure="Fig. 5, 12">
            <p className="explain">
              A neuron's activation over (a, b), centred, in the 2-D Fourier basis: the share of its variance in one frequency's terms {'{1, cos w_k, sin w_k}²'}
              is its <Term term="FVE" />. Grokked neurons cluster by frequency, and the neurons of one cluster write to the logits with the same frequency (W_L rows).
            </p>
            <NeuronMaps />
            <div className="grid-2">
              <FveHistogram />
              <NeuronsByFrequency />
            </div>
            <ClusterWL />
          </Section>
          <Section id="logits" title="The logits" figure="Fig. 4, 8, 14">
            <GuideCleanup />
            <div className="grid-2">
              <LogitSpectrum />
              <CoefficientsChart />
            </div>
            <InterferenceChart />
          </Section>
          <Section id="evidence" title="The evidence for the algorithm, and its ablations (§4)" figure="Tables 1, 2, 4, 6; Fig. 6, 10, 11">
            <EvidenceSection />
          </Section>
          <Section id="input" title="One input, and interventions" figure="Fig. 8 for one input">
            <InputAndInterventions />
          </Section>
          <Section id="sweep" title="Many runs: seeds, sweeps and phase diagrams" figure="Figs. 15–19, 21; App. D">
            <SweepSection />
          </Section>
          {/* Not a view of the run on show: the appendix's other tasks train beside it, whatever its task. */}
          <section id="appendix-tasks" className="panel section" aria-labelledby="appendix-tasks-title">
            <h2 id="appendix-tasks-title">
              Grokking beyond modular addition <span className="figure-ref">App. D.3, Figs. 29–34</span>
            </h2>
            <ErrorBoundary what="The appendix's other tasks">
              <SequenceSection />
            </ErrorBoundary>
          </section>
        </div>
      </main>
      <footer className="footer muted">
        Reproduces “Progress measures for grokking via mechanistic interpretability” (Nanda, Chan, Lieberum, Smith, Steinhardt, ICLR 2023) in your browser with
        TensorFlow.js. Figures refer to the paper.
      </footer>
    </div>
  );
}
