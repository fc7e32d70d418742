//! Audio in and out of a UI: uploads and recordings (WAV through `hound`, FLAC through `claxon`) decoded
//! into an `AudioValue` with limits on length, and results encoded as 16-bit WAV with a waveform summary
//! (`AudioOutput`) that both GUIs draw without decoding the sound again.

use std::io::Cursor;

use serde::{Deserialize, Serialize};

use super::UiError;
use super::bytes::b64;
use super::inputs::{Input, InputKind};

/// Longest audio an input decodes unless it sets its own `max_seconds`: ten minutes.
pub const MAX_AUDIO_SECONDS: f64 = 600.0;

/// Most channels an uploaded audio file may have.
pub const MAX_AUDIO_CHANNELS: u16 = 8;

/// Columns of the waveform summary sent with an audio output.
pub const WAVEFORM_POINTS: usize = 600;

/// Decoded audio: `channels` interleaved samples per frame, each in -1.0..=1.0.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioValue {
    /// Frames per second, e.g. 16000 or 44100.
    pub sample_rate: u32,
    /// 1 (mono), 2 (stereo), ...
    pub channels: u16,
    /// Samples, frame after frame, channel-interleaved.
    pub samples: Vec<f32>,
}

impl AudioValue {
    /// Audio from interleaved samples.
    pub fn new(sample_rate: u32, channels: u16, samples: Vec<f32>) -> Self {
        Self {
            sample_rate,
            channels,
            samples,
        }
    }

    /// Frames (samples per channel).
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.channels.max(1))
    }

    /// Length in seconds.
    pub fn duration_seconds(&self) -> f64 {
        if self.sample_rate == 0 {
            return 0.0;
        }
        self.frames() as f64 / f64::from(self.sample_rate)
    }

    /// The samples of one channel (0-based); empty when there is no such channel.
    pub fn channel(&self, index: u16) -> Vec<f32> {
        if index >= self.channels {
            return Vec::new();
        }
        self.samples
            .iter()
            .skip(usize::from(index))
            .step_by(usize::from(self.channels))
            .copied()
            .collect()
    }

    /// Decodes WAV (PCM 8-32 bit or float) or FLAC bytes, refusing audio longer than `max_seconds`;
    /// `field` names the input in errors.
    pub fn decode(bytes: &[u8], field: &str, max_seconds: f64) -> Result<Self, UiError> {
        let bad = |what: String| UiError::field(field, what);
        let value = if bytes.len() >= 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WAVE" {
            decode_wav(bytes, max_seconds).map_err(bad)?
        } else if bytes.starts_with(b"fLaC") {
            decode_flac(bytes, max_seconds).map_err(bad)?
        } else {
            return Err(bad("the file is not a WAV or FLAC audio file".to_owned()));
        };
        if value.samples.is_empty() {
            return Err(bad("the audio file holds no samples".to_owned()));
        }
        Ok(value)
    }

    /// The audio as a 16-bit PCM WAV file.
    pub fn to_wav(&self) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels: self.channels.max(1),
            sample_rate: self.sample_rate.max(1),
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        // Writing into memory fails only on sizes WAV cannot hold (over 4 GiB); the output is then empty.
        let written = hound::WavWriter::new(&mut out, spec).and_then(|mut writer| {
            for sample in &self.samples {
                let scaled = (sample.clamp(-1.0, 1.0) * f32::from(i16::MAX)).round() as i16;
                writer.write_sample(scaled)?;
            }
            writer.finalize()
        });
        if written.is_err() {
            return Vec::new();
        }
        out.into_inner()
    }
}

impl Input {
    /// A WAV or FLAC upload, or a recording.
    pub fn audio(name: impl Into<String>, label: impl Into<String>) -> Self {
        Self::new(name, label, InputKind::Audio { max_seconds: None })
    }

    /// Sets the longest sound an `Audio` input accepts, in seconds.
    #[must_use]
    pub fn max_seconds(mut self, seconds: f64) -> Self {
        if let InputKind::Audio { max_seconds } = &mut self.kind {
            *max_seconds = Some(seconds);
        }
        self
    }
}

/// Checks the header of a file before its samples are read.
fn check_header(sample_rate: u32, channels: u32, frames: Option<u64>, max_seconds: f64) -> Result<(), String> {
    if sample_rate == 0 {
        return Err("the audio file says its sample rate is 0 Hz".to_owned());
    }
    if channels == 0 || channels > u32::from(MAX_AUDIO_CHANNELS) {
        return Err(format!(
            "the audio file has {channels} channels; at most {MAX_AUDIO_CHANNELS} are accepted"
        ));
    }
    if let Some(frames) = frames {
        let seconds = frames as f64 / f64::from(sample_rate);
        if seconds > max_seconds {
            return Err(too_long(seconds, max_seconds));
        }
    }
    Ok(())
}

fn too_long(seconds: f64, max_seconds: f64) -> String {
    format!("the audio is {seconds:.1} s long; at most {max_seconds} s are accepted")
}

/// The most samples `max_seconds` of this stream may hold, so a header that lies about its length
/// cannot make the decoder run on.
fn sample_budget(sample_rate: u32, channels: u32, max_seconds: f64) -> usize {
    let frames = (f64::from(sample_rate) * max_seconds).ceil();
    (frames * f64::from(channels)).min(usize::MAX as f64) as usize
}

fn decode_wav(bytes: &[u8], max_seconds: f64) -> Result<AudioValue, String> {
    let mut reader =
        hound::WavReader::new(Cursor::new(bytes)).map_err(|e| format!("the WAV file cannot be read: {e}"))?;
    let spec = reader.spec();
    let channels = u32::from(spec.channels);
    check_header(
        spec.sample_rate,
        channels,
        Some(u64::from(reader.duration())),
        max_seconds,
    )?;
    let budget = sample_budget(spec.sample_rate, channels, max_seconds);
    let broken = |e: hound::Error| format!("the WAV file is broken: {e}");
    let samples: Vec<f32> = match spec.sample_format {
        hound::SampleFormat::Float => reader
            .samples::<f32>()
            .take(budget)
            .collect::<Result<_, _>>()
            .map_err(broken)?,
        hound::SampleFormat::Int => {
            let scale = 1.0 / (1_i64 << (spec.bits_per_sample.clamp(1, 32) - 1)) as f32;
            reader
                .samples::<i32>()
                .take(budget)
                .map(|s| s.map(|s| s as f32 * scale))
                .collect::<Result<_, _>>()
                .map_err(broken)?
        }
    };
    Ok(AudioValue::new(spec.sample_rate, spec.channels, samples))
}

fn decode_flac(bytes: &[u8], max_seconds: f64) -> Result<AudioValue, String> {
    let mut reader =
        claxon::FlacReader::new(Cursor::new(bytes)).map_err(|e| format!("the FLAC file cannot be read: {e}"))?;
    let info = reader.streaminfo();
    check_header(info.sample_rate, info.channels, info.samples, max_seconds)?;
    let budget = sample_budget(info.sample_rate, info.channels, max_seconds);
    let scale = 1.0 / (1_i64 << (info.bits_per_sample.clamp(1, 32) - 1)) as f32;
    let mut samples = Vec::with_capacity(
        info.samples
            .map_or(0, |n| n as usize * info.channels as usize)
            .min(budget),
    );
    for sample in reader.samples() {
        let sample = sample.map_err(|e| format!("the FLAC file is broken: {e}"))?;
        if samples.len() == budget {
            let seconds = (budget + 1) as f64 / f64::from(info.channels) / f64::from(info.sample_rate);
            return Err(too_long(seconds, max_seconds));
        }
        samples.push(sample as f32 * scale);
    }
    // Channel count fits: check_header refused more than MAX_AUDIO_CHANNELS.
    Ok(AudioValue::new(info.sample_rate, info.channels as u16, samples))
}

/// Audio shown as a result: a 16-bit WAV the page plays, its length, and a waveform summary (the
/// minimum and maximum of each of up to [`WAVEFORM_POINTS`] columns, over all channels).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AudioOutput {
    /// Frames per second.
    pub sample_rate: u32,
    /// Number of channels.
    pub channels: u16,
    /// Length in seconds.
    pub duration: f64,
    /// The sound as a WAV file.
    #[serde(with = "b64")]
    pub wav: Vec<u8>,
    /// `[min, max]` per column, each in -1.0..=1.0.
    pub waveform: Vec<[f32; 2]>,
}

impl AudioOutput {
    /// The output of decoded audio.
    pub fn from_value(audio: &AudioValue) -> Self {
        Self {
            sample_rate: audio.sample_rate,
            channels: audio.channels,
            duration: audio.duration_seconds(),
            wav: audio.to_wav(),
            waveform: waveform(audio),
        }
    }

    /// The output of mono samples at `sample_rate`.
    pub fn mono(sample_rate: u32, samples: Vec<f32>) -> Self {
        Self::from_value(&AudioValue::new(sample_rate, 1, samples))
    }
}

fn waveform(audio: &AudioValue) -> Vec<[f32; 2]> {
    let channels = usize::from(audio.channels.max(1));
    let frames = audio.frames();
    if frames == 0 {
        return Vec::new();
    }
    let columns = frames.min(WAVEFORM_POINTS);
    (0..columns)
        .map(|c| {
            let (start, end) = (
                c * frames / columns,
                ((c + 1) * frames / columns).max(c * frames / columns + 1),
            );
            audio.samples[start * channels..end * channels]
                .iter()
                .fold([f32::MAX, f32::MIN], |[lo, hi], s| [lo.min(*s), hi.max(*s)])
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    /// A WAV file of a sine in `bits`-bit integers.
    fn wav(sample_rate: u32, channels: u16, frames: usize, bits: u16) -> Vec<u8> {
        let spec = hound::WavSpec {
            channels,
            sample_rate,
            bits_per_sample: bits,
            sample_format: hound::SampleFormat::Int,
        };
        let mut out = Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut out, spec).unwrap();
        let peak = ((1_i64 << (bits - 1)) - 1) as f64;
        for i in 0..frames {
            for _ in 0..channels {
                w.write_sample(((i as f64 * 0.1).sin() * peak * 0.5) as i32).unwrap();
            }
        }
        w.finalize().unwrap();
        out.into_inner()
    }

    #[test]
    fn wav_of_any_depth_decodes_to_the_same_rate_length_and_scale() {
        for bits in [8, 16, 24] {
            let audio = AudioValue::decode(&wav(8000, 2, 4000, bits), "voice", 60.0).unwrap();
            assert_eq!((audio.sample_rate, audio.channels, audio.frames()), (8000, 2, 4000));
            assert!((audio.duration_seconds() - 0.5).abs() < 1e-9);
            let top = audio.samples.iter().fold(0.0_f32, |m, s| m.max(s.abs()));
            assert!((top - 0.5).abs() < 0.02, "{bits} bit: peak {top}");
            assert_eq!(audio.channel(1).len(), 4000);
        }
    }

    #[test]
    fn output_wav_reads_back_and_its_waveform_spans_the_sound() {
        let audio = AudioValue::decode(&wav(16000, 1, 16000, 16), "a", 60.0).unwrap();
        let out = AudioOutput::from_value(&audio);
        assert_eq!(out.duration, 1.0);
        assert_eq!(out.waveform.len(), WAVEFORM_POINTS);
        assert!(out.waveform.iter().all(|[lo, hi]| lo <= hi));
        let again = AudioValue::decode(&out.wav, "a", 60.0).unwrap();
        assert_eq!(again.frames(), 16000);
        let diff = audio
            .samples
            .iter()
            .zip(&again.samples)
            .fold(0.0_f32, |m, (a, b)| m.max((a - b).abs()));
        assert!(diff < 1e-3, "{diff}");
    }

    #[test]
    fn bad_or_long_audio_is_refused_naming_the_input() {
        let err = AudioValue::decode(b"hello, not audio", "voice", 60.0).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("voice"));
        assert!(err.message.contains("not a WAV or FLAC"), "{}", err.message);
        let err = AudioValue::decode(&wav(8000, 1, 8001, 16), "voice", 1.0).unwrap_err();
        assert!(err.message.contains("at most 1 s"), "{}", err.message);
        let mut cut = wav(8000, 1, 100, 16);
        cut.truncate(60);
        assert_eq!(
            AudioValue::decode(&cut, "voice", 60.0).unwrap_err().field.as_deref(),
            Some("voice")
        );
        let err = AudioValue::decode(b"fLaC\0\0\0\x22garbage", "voice", 60.0).unwrap_err();
        assert!(err.message.contains("FLAC"), "{}", err.message);
    }
}
